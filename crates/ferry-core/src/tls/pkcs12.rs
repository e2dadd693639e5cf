//! PKCS12 key and trust stores (what `keytool -deststoretype PKCS12` and
//! `openssl pkcs12 -export` write), read with the `p12-keystore` crate.

use p12_keystore::{KeyStore, KeyStoreEntry, Pkcs12ImportPolicy};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

fn open(bytes: &[u8], password: &str, policy: Pkcs12ImportPolicy) -> Result<KeyStore, String> {
    KeyStore::from_pkcs12(bytes, password, policy)
        .map_err(|e| format!("not a PKCS12 store this password opens ({e})"))
}

/// The first private key of a PKCS12 store and its certificate chain.
///
/// The store password opens it; `key_password` (`ssl.key.password`) is tried when it
/// differs and the store password does not.
pub(super) fn key_store(
    bytes: &[u8],
    password: &str,
    key_password: Option<&str>,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let store = match (open(bytes, password, Pkcs12ImportPolicy::Strict), key_password) {
        (Ok(s), _) => s,
        (Err(_), Some(kp)) if kp != password => open(bytes, kp, Pkcs12ImportPolicy::Strict)?,
        (Err(e), _) => return Err(e),
    };
    let (_, chain) = store
        .private_key_chain()
        .ok_or_else(|| "the store holds no private key with its certificate".to_owned())?;
    let certs = chain
        .certs()
        .iter()
        .map(|c| CertificateDer::from(c.as_der().to_vec()))
        .collect::<Vec<_>>();
    if certs.is_empty() {
        return Err("the store's private key has no certificate".into());
    }
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec()));
    Ok((certs, key))
}

/// Every certificate of a PKCS12 trust store.
pub(super) fn trust_store(bytes: &[u8], password: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let store = open(bytes, password, Pkcs12ImportPolicy::Relaxed)?;
    let mut certs = Vec::new();
    for (_, entry) in store.entries() {
        match entry {
            KeyStoreEntry::Certificate(c) => certs.push(CertificateDer::from(c.as_der().to_vec())),
            KeyStoreEntry::PrivateKeyChain(chain) => certs.extend(
                chain
                    .certs()
                    .iter()
                    .map(|c| CertificateDer::from(c.as_der().to_vec())),
            ),
            KeyStoreEntry::Secret(_) => {}
        }
    }
    if certs.is_empty() {
        return Err("the trust store holds no certificate".into());
    }
    Ok(certs)
}
