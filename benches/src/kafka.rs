//! Kafka side of the benchmark: a counting consumer and the plain-producer baseline.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{BorrowedMessage, Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

/// One message as Ferry wrote it, replayed by the baseline producer.
#[derive(Clone)]
pub struct Template {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Template {
    pub fn size(&self) -> usize {
        self.key.as_ref().map_or(0, Vec::len)
            + self.value.as_ref().map_or(0, Vec::len)
            + self.headers.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
    }
}

/// What a consumer saw.
#[derive(Default)]
pub struct Consumed {
    pub count: usize,
    pub bytes: u64,
    pub first: Option<Instant>,
    pub last: Option<Instant>,
    pub templates: Vec<Template>,
}

pub type OnMessage = Box<dyn FnMut(&BorrowedMessage<'_>, Instant) + Send>;

/// A consumer reading `topics` (partition 0 each) from the beginning on its own thread.
pub struct Counter {
    handle: std::thread::JoinHandle<Consumed>,
}

impl Counter {
    /// Starts reading; returns once the consumer is assigned and has polled once.
    pub fn start(
        bootstrap: &str,
        topics: &[String],
        expected: usize,
        timeout: Duration,
        keep_templates: usize,
        mut on_msg: Option<OnMessage>,
    ) -> Counter {
        let bootstrap = bootstrap.to_owned();
        let topics = topics.to_vec();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let handle = std::thread::spawn(move || {
            let consumer: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", &bootstrap)
                .set("group.id", format!("ferry-bench-{}", std::process::id()))
                .set("enable.auto.commit", "false")
                .set("fetch.wait.max.ms", "10")
                .set("fetch.error.backoff.ms", "10")
                .set("fetch.min.bytes", "1")
                .set("enable.partition.eof", "false")
                .create()
                .expect("consumer");
            let mut tpl = TopicPartitionList::new();
            for t in &topics {
                tpl.add_partition_offset(t, 0, Offset::Beginning).expect("tpl");
            }
            consumer.assign(&tpl).expect("assign");
            // Warm up: a freshly assigned consumer takes a few hundred milliseconds (offset
            // look-ups, first fetches) before it returns records, which would count against
            // whatever is measured next; `start` returns after a second of polling. Records
            // arriving meanwhile are counted like any other.
            let warm_until = Instant::now() + Duration::from_millis(1000);
            let mut ready_tx = Some(ready_tx);
            let mut out = Consumed::default();
            let deadline = Instant::now() + timeout;
            while out.count < expected && Instant::now() < deadline {
                if ready_tx.is_some() && Instant::now() >= warm_until {
                    let _ = ready_tx.take().map(|tx| tx.send(()));
                }
                match consumer.poll(Duration::from_millis(50)) {
                    Some(Ok(m)) => {
                        let now = Instant::now();
                        out.first.get_or_insert(now);
                        out.last = Some(now);
                        out.count += 1;
                        let hs: Vec<(String, Vec<u8>)> = m
                            .headers()
                            .map(|hs| {
                                hs.iter()
                                    .map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec()))
                                    .collect()
                            })
                            .unwrap_or_default();
                        let t = Template {
                            key: m.key().map(<[u8]>::to_vec),
                            value: m.payload().map(<[u8]>::to_vec),
                            headers: hs,
                        };
                        out.bytes += t.size() as u64;
                        if out.templates.len() < keep_templates {
                            out.templates.push(t);
                        }
                        if let Some(f) = on_msg.as_mut() {
                            f(&m, now);
                        }
                    }
                    Some(Err(e)) => eprintln!("consumer error: {e}"),
                    None => {}
                }
            }
            if let Some(tx) = ready_tx {
                let _ = tx.send(());
            }
            out
        });
        let _ = ready_rx.recv_timeout(Duration::from_secs(30));
        Counter { handle }
    }

    pub fn join(self) -> Consumed {
        self.handle.join().expect("consumer thread")
    }
}

struct CountAcks {
    ok: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
}

impl ClientContext for CountAcks {}

impl ProducerContext for CountAcks {
    type DeliveryOpaque = ();
    fn delivery(&self, r: &DeliveryResult<'_>, _: ()) {
        match r {
            Ok(_) => self.ok.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.failed.fetch_add(1, Ordering::Relaxed),
        };
    }
}

/// Result of the plain-producer baseline.
pub struct Produced {
    pub secs_to_all_acked: f64,
    pub failed: u64,
    pub cpu_secs: f64,
}

/// Sends `n` messages (cycling through `templates`, round-robin over `topics`) with the
/// producer settings Ferry's source tasks use, and waits until every one is acknowledged.
pub fn produce_baseline(bootstrap: &str, topics: &[String], templates: &[Template], n: usize) -> Produced {
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let producer: ThreadedProducer<CountAcks> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        // Exactly what ferry-kafka's DataProducer sets by default.
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "5")
        .create_with_context(CountAcks {
            ok: ok.clone(),
            failed: failed.clone(),
        })
        .expect("producer");
    let cpu0 = thread_group_cpu();
    let t0 = Instant::now();
    for i in 0..n {
        let t = &templates[i % templates.len()];
        let topic = &topics[i % topics.len()];
        let mut headers = OwnedHeaders::new_with_capacity(t.headers.len());
        for (k, v) in &t.headers {
            headers = headers.insert(Header {
                key: k,
                value: Some(v.as_slice()),
            });
        }
        let mut rec: BaseRecord<'_, [u8], [u8], ()> = BaseRecord::to(topic).headers(headers);
        if let Some(k) = &t.key {
            rec = rec.key(k.as_slice());
        }
        if let Some(v) = &t.value {
            rec = rec.payload(v.as_slice());
        }
        let mut rec = rec;
        loop {
            match producer.send(rec) {
                Ok(()) => break,
                Err((_, back)) => {
                    rec = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }
    producer.flush(Duration::from_secs(300)).expect("flush");
    let secs = t0.elapsed().as_secs_f64();
    Produced {
        secs_to_all_acked: secs,
        failed: failed.load(Ordering::Relaxed),
        cpu_secs: thread_group_cpu() - cpu0,
    }
}

fn thread_group_cpu() -> f64 {
    crate::procfs::cpu_secs(std::process::id())
}

struct AckLatency {
    lats: Arc<std::sync::Mutex<Vec<u64>>>,
    now_us: fn() -> u64,
}

impl ClientContext for AckLatency {}

impl ProducerContext for AckLatency {
    type DeliveryOpaque = Box<u64>;
    fn delivery(&self, r: &DeliveryResult<'_>, sent: Box<u64>) {
        if r.is_ok() && *sent != u64::MAX {
            self.lats
                .lock()
                .unwrap()
                .push((self.now_us)().saturating_sub(*sent));
        }
    }
}

/// The broker's own latency floor: a plain producer (Ferry's settings) sending `n` copies of
/// `template` at `rate` messages/s; each carries its send time (µs, bench clock) in header `t`.
/// Returns the send → acknowledgement latencies (µs, sorted).
pub fn produce_paced(
    bootstrap: &str,
    topic: &str,
    template: &Template,
    rate: u64,
    n: u64,
    now_us: fn() -> u64,
) -> Vec<u64> {
    let lats = Arc::new(std::sync::Mutex::new(Vec::new()));
    let producer: ThreadedProducer<AckLatency> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "5")
        .create_with_context(AckLatency {
            lats: lats.clone(),
            now_us,
        })
        .expect("producer");
    // Warm-up (metadata, producer id): one message without a send time, not counted.
    let mut warm: BaseRecord<'_, [u8], [u8], Box<u64>> =
        BaseRecord::with_opaque_to(topic, Box::new(u64::MAX));
    if let Some(v) = &template.value {
        warm = warm.payload(v.as_slice());
    }
    producer.send(warm).map_err(|(e, _)| e).expect("warm-up send");
    producer.flush(Duration::from_secs(30)).expect("warm-up flush");
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let t0 = Instant::now();
    for i in 0..n {
        let at = t0 + interval * i as u32;
        let now = Instant::now();
        if at > now {
            std::thread::sleep(at - now);
        }
        let sent = now_us();
        let ts = sent.to_string();
        let headers = OwnedHeaders::new().insert(Header {
            key: "t",
            value: Some(ts.as_bytes()),
        });
        let mut rec: BaseRecord<'_, [u8], [u8], Box<u64>> =
            BaseRecord::with_opaque_to(topic, Box::new(sent)).headers(headers);
        if let Some(k) = &template.key {
            rec = rec.key(k.as_slice());
        }
        if let Some(v) = &template.value {
            rec = rec.payload(v.as_slice());
        }
        let mut rec = rec;
        loop {
            match producer.send(rec) {
                Ok(()) => break,
                Err((_, back)) => {
                    rec = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }
    producer.flush(Duration::from_secs(60)).expect("flush");
    let mut l = lats.lock().unwrap().clone();
    l.sort_unstable();
    l
}
