//! Problems a running task shows in its RUNNING status while they last (the status
//! `trace`), and how they are reported and cleared.

use std::fmt;

use ferry_kafka::records::State;

use super::TaskEnv;

/// A problem a task keeps running through; its text is the status trace REST shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trouble {
    /// Records are outstanding and the broker has acknowledged none for a while.
    KafkaSilent {
        /// Seconds since the last acknowledgement.
        secs: u64,
        /// Records sent and not yet acknowledged.
        waiting: usize,
    },
    /// Writing source offsets failed (the text is the store's error).
    OffsetFlushFailed(String),
    /// Writing source offsets took longer than `offset.flush.timeout.ms`.
    OffsetFlushTimedOut {
        /// The timeout, in milliseconds.
        timeout_ms: u128,
    },
    /// The sink consumer reported an error it retries (the text is the client's).
    ConsumerError(String),
}

impl Trouble {
    /// True for the two offset-flush problems, which a successful flush clears.
    pub fn is_offset_flush(&self) -> bool {
        matches!(
            self,
            Trouble::OffsetFlushFailed(_) | Trouble::OffsetFlushTimedOut { .. }
        )
    }
}

impl fmt::Display for Trouble {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trouble::KafkaSilent { secs, waiting } => write!(
                f,
                "Kafka has acknowledged nothing for {secs} s ({waiting} records waiting); the producer keeps retrying"
            ),
            Trouble::OffsetFlushFailed(e) => write!(f, "Offsets could not be flushed to Kafka: {e}"),
            Trouble::OffsetFlushTimedOut { timeout_ms } => write!(
                f,
                "Offsets could not be flushed to Kafka within offset.flush.timeout.ms ({timeout_ms} ms)"
            ),
            Trouble::ConsumerError(e) => write!(f, "Kafka consumer error, retrying: {e}"),
        }
    }
}

/// The trouble a task currently shows, if any.
#[derive(Debug, Default)]
pub struct TroubleStatus {
    current: Option<Trouble>,
}

impl TroubleStatus {
    /// The trouble shown now.
    pub fn current(&self) -> Option<&Trouble> {
        self.current.as_ref()
    }

    /// Shows `trouble` in the RUNNING status (or clears it with `None`); nothing
    /// happens when it is what is shown already. A paused task's status stays PAUSED.
    pub async fn report(&mut self, env: &TaskEnv, trouble: Option<Trouble>) {
        if self.current == trouble {
            return;
        }
        match &trouble {
            Some(t) => tracing::warn!("{t}"),
            None => tracing::info!("recovered"),
        }
        let trace = trouble.as_ref().map(ToString::to_string);
        self.current = trouble;
        if !*env.paused.borrow() {
            env.set_state(State::Running, trace).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_read_as_before() {
        assert_eq!(
            Trouble::KafkaSilent {
                secs: 12,
                waiting: 345
            }
            .to_string(),
            "Kafka has acknowledged nothing for 12 s (345 records waiting); the producer keeps retrying"
        );
        assert_eq!(
            Trouble::OffsetFlushFailed("could not write to topic o: Broker: Unknown topic".into())
                .to_string(),
            "Offsets could not be flushed to Kafka: could not write to topic o: Broker: Unknown topic"
        );
        assert_eq!(
            Trouble::OffsetFlushTimedOut { timeout_ms: 5000 }.to_string(),
            "Offsets could not be flushed to Kafka within offset.flush.timeout.ms (5000 ms)"
        );
        assert_eq!(
            Trouble::ConsumerError("Broker: Unknown topic or partition".into()).to_string(),
            "Kafka consumer error, retrying: Broker: Unknown topic or partition"
        );
        assert!(Trouble::OffsetFlushTimedOut { timeout_ms: 1 }.is_offset_flush());
        assert!(!Trouble::ConsumerError(String::new()).is_offset_flush());
    }
}
