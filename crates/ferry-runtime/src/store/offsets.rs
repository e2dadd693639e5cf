//! Source offsets: an in-memory view over the offsets topic (or a local file in standalone mode).
//!
//! Lookups go by the exact key bytes Kafka Connect writes (`["connector",{partition}]`),
//! so offsets written by a Java worker are found, and ours are found by it.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use ferry_core::OffsetMap;
use ferry_kafka::records::{decode_offset_key, decode_offset_value, encode_offset_key, encode_offset_value};
use ferry_kafka::InternalLog;

use super::StoreError;

/// Raw key/value pairs; `None` value is a tombstone.
pub type RawEntry = (Vec<u8>, Option<Vec<u8>>);

/// Where offsets persist.
#[async_trait]
pub trait OffsetBackend: Send + Sync {
    /// Every stored entry, oldest first.
    async fn load(&self) -> Result<Vec<RawEntry>, StoreError>;
    /// Persists entries; returns once they are durable.
    async fn write(&self, entries: &[RawEntry]) -> Result<(), StoreError>;
}

/// The offsets topic (or any internal log) as a backend.
#[async_trait]
impl<L: InternalLog + ?Sized> OffsetBackend for L {
    async fn load(&self) -> Result<Vec<RawEntry>, StoreError> {
        Ok(self
            .read_to_end()
            .await?
            .into_iter()
            .filter_map(|r| Some((r.key?, r.value)))
            .collect())
    }
    async fn write(&self, entries: &[RawEntry]) -> Result<(), StoreError> {
        let sends = entries.iter().map(|(k, v)| self.send(k, v.as_deref()));
        for r in futures::future::join_all(sends).await {
            r?;
        }
        Ok(())
    }
}

/// Latest offset per (connector, source partition).
///
/// A partition whose offset was reset (a tombstone) is forgotten, as Connect's
/// `OffsetUtils.processPartitionKey` forgets it once it reads the tombstone back.
pub struct OffsetStore {
    backend: Box<dyn OffsetBackend>,
    data: Mutex<HashMap<Vec<u8>, Option<OffsetMap>>>,
}

impl OffsetStore {
    /// A store over a backend; call [`OffsetStore::load`] before use.
    pub fn new(backend: Box<dyn OffsetBackend>) -> Self {
        OffsetStore {
            backend,
            data: Mutex::new(HashMap::new()),
        }
    }

    /// Reads everything stored (the offsets topic to its end).
    pub async fn load(&self) -> Result<usize, StoreError> {
        let entries = self.backend.load().await?;
        let mut data = self.data.lock().expect("offset map lock");
        for (k, v) in entries {
            remember(&mut data, k, decode_offset_value(v.as_deref()));
        }
        Ok(data.len())
    }

    /// Reads the offsets topic to its end again and takes what it holds for `connectors`
    /// only (the offsets of tasks running here are this worker's own, possibly newer than
    /// what the read saw). Before a task moved from another worker starts, as Connect's
    /// `KafkaOffsetBackingStore.get` reads to the end before answering.
    pub async fn refresh(
        &self,
        connectors: &std::collections::BTreeSet<String>,
    ) -> Result<usize, StoreError> {
        let entries = self.backend.load().await?;
        let mut data = self.data.lock().expect("offset map lock");
        let mut taken = 0;
        for (k, v) in entries {
            let ours = decode_offset_key(&k).is_some_and(|(name, _)| connectors.contains(&name));
            if ours {
                remember(&mut data, k, decode_offset_value(v.as_deref()));
                taken += 1;
            }
        }
        Ok(taken)
    }

    /// The stored offset of a connector's source partition.
    pub fn get(&self, connector: &str, partition: &OffsetMap) -> Option<OffsetMap> {
        let key = encode_offset_key(connector, partition);
        self.data
            .lock()
            .expect("offset map lock")
            .get(&key)
            .cloned()
            .flatten()
    }

    /// Every (partition, offset) of a connector, sorted by key bytes for stable output;
    /// a reset partition has no offset.
    pub fn connector_offsets(&self, connector: &str) -> Vec<(OffsetMap, Option<OffsetMap>)> {
        let data = self.data.lock().expect("offset map lock");
        let mut out: Vec<(Vec<u8>, OffsetMap, Option<OffsetMap>)> = data
            .iter()
            .filter_map(|(k, v)| {
                let (name, partition) = decode_offset_key(k)?;
                (name == connector).then(|| (k.clone(), partition, v.clone()))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out.into_iter().map(|(_, p, o)| (p, o)).collect()
    }

    /// Writes offsets (a `None` offset removes the partition's offset) and waits until durable.
    pub async fn write(
        &self,
        connector: &str,
        entries: &[(&OffsetMap, Option<&OffsetMap>)],
    ) -> Result<(), StoreError> {
        let raw: Vec<RawEntry> = entries
            .iter()
            .map(|(p, o)| (encode_offset_key(connector, p), o.map(encode_offset_value)))
            .collect();
        self.backend.write(&raw).await?;
        let mut data = self.data.lock().expect("offset map lock");
        for ((key, _), (_, o)) in raw.into_iter().zip(entries) {
            remember(&mut data, key, o.map(|o| (*o).clone()));
        }
        Ok(())
    }
}

/// Keeps a partition's offset, or forgets the partition on a tombstone.
fn remember(data: &mut HashMap<Vec<u8>, Option<OffsetMap>>, key: Vec<u8>, offset: Option<OffsetMap>) {
    match offset {
        Some(o) => {
            data.insert(key, Some(o));
        }
        None => {
            data.remove(&key);
        }
    }
}

/// A per-connector reader handed to source tasks.
pub struct ConnectorOffsetReader {
    pub(crate) store: std::sync::Arc<OffsetStore>,
    pub(crate) connector: String,
}

#[async_trait]
impl ferry_core::OffsetStorageReader for ConnectorOffsetReader {
    fn offset(&self, partition: &OffsetMap) -> Option<OffsetMap> {
        self.store.get(&self.connector, partition)
    }

    async fn reload(&self) -> Result<(), ferry_core::ConnectError> {
        let names = std::iter::once(self.connector.clone()).collect();
        self.store.refresh(&names).await.map(drop).map_err(|e| {
            ferry_core::ConnectError::retriable(format!("could not read the offsets topic again: {e}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(k: &str, v: serde_json::Value) -> OffsetMap {
        let mut m = OffsetMap::new();
        m.insert(k.into(), v);
        m
    }

    use crate::store::FileOffsetBackend;

    /// A worker's copy taken at start-up is stale once another worker stored offsets; a
    /// refresh for the arriving connector takes them and leaves the others' local values.
    #[tokio::test]
    async fn refresh_takes_what_other_workers_stored_for_the_named_connectors_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("offsets.jsonl");
        let p = map("server", "s".into());
        let ours = OffsetStore::new(Box::new(FileOffsetBackend::new(&path)));
        ours.load().await.unwrap();
        let theirs = OffsetStore::new(Box::new(FileOffsetBackend::new(&path)));
        theirs
            .write("moved", &[(&p, Some(&map("lsn", 42.into())))])
            .await
            .unwrap();
        ours.write("local", &[(&p, Some(&map("lsn", 7.into())))])
            .await
            .unwrap();
        assert_eq!(ours.get("moved", &p), None, "stale before the refresh");
        theirs
            .write("local", &[(&p, Some(&map("lsn", 1.into())))])
            .await
            .unwrap();
        let names = ["moved".to_owned()].into_iter().collect();
        assert_eq!(ours.refresh(&names).await.unwrap(), 1);
        assert_eq!(ours.get("moved", &p), Some(map("lsn", 42.into())));
        assert_eq!(
            ours.get("local", &p),
            Some(map("lsn", 7.into())),
            "not named: kept"
        );
    }

    #[tokio::test]
    async fn file_backend_round_trips_and_tombstones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("offsets.jsonl");
        let store = OffsetStore::new(Box::new(FileOffsetBackend::new(&path)));
        let p = map("filename", "in.txt".into());
        store
            .write("c", &[(&p, Some(&map("position", 10.into())))])
            .await
            .unwrap();
        store
            .write("c", &[(&p, Some(&map("position", 25.into())))])
            .await
            .unwrap();
        store
            .write("d", &[(&p, Some(&map("position", 1.into())))])
            .await
            .unwrap();
        store.write("d", &[(&p, None)]).await.unwrap();

        let reopened = OffsetStore::new(Box::new(FileOffsetBackend::new(&path)));
        reopened.load().await.unwrap();
        assert_eq!(reopened.get("c", &p), Some(map("position", 25.into())));
        assert_eq!(reopened.get("d", &p), None);
        assert_eq!(reopened.connector_offsets("c").len(), 1);
        // The reset partition is forgotten, as Connect forgets it.
        assert_eq!(reopened.connector_offsets("d"), []);
        assert_eq!(store.connector_offsets("d"), []);
    }
}
