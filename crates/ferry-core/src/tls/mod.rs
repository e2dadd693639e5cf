//! TLS pieces shared by Ferry's servers and clients: Java's `ssl.*` key and trust store
//! settings read into rustls types, and the verifiers libpq's and Java's modes need.

mod pkcs12;
mod stores;
mod verify;

pub use stores::{key_store, trust_certificates, CertifiedKey, StoreError};
pub use verify::ChainOnly;
