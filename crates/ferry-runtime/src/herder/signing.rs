//! Signed internal requests (KIP-507) in group mode: the `inter.worker.*` settings, the
//! session key this worker knows, and the checks Connect's `DistributedHerder` makes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

use ferry_rest::signature::{self, RequestSignature, SessionKey};
use ferry_rest::HerderError;

use crate::WorkerConfig;

/// The `inter.worker.*` settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningSettings {
    /// `inter.worker.key.generation.algorithm` (HmacSHA256).
    pub key_algorithm: String,
    /// `inter.worker.key.size` in bits; the algorithm's default when unset.
    pub key_bits: Option<usize>,
    /// `inter.worker.key.ttl.ms` (one hour).
    pub key_ttl_ms: i64,
    /// `inter.worker.signature.algorithm` (HmacSHA256).
    pub signature_algorithm: String,
    /// `inter.worker.verification.algorithms` ([HmacSHA256]).
    pub verification_algorithms: Vec<String>,
}

impl SigningSettings {
    /// Reads and checks the settings; the error names the key.
    pub fn from_config(config: &WorkerConfig) -> Result<SigningSettings, String> {
        let get = |k: &str| config.originals.get(k).map(|v| v.trim().to_owned());
        let algorithm = |k: &str| -> Result<String, String> {
            let v = get(k).unwrap_or_else(|| "HmacSHA256".into());
            signature::default_key_bits(&v).map_err(|e| format!("{k}: {e}"))?;
            Ok(v)
        };
        let key_algorithm = algorithm("inter.worker.key.generation.algorithm")?;
        let signature_algorithm = algorithm("inter.worker.signature.algorithm")?;
        let key_bits = match get("inter.worker.key.size") {
            None => None,
            Some(v) if v.is_empty() || v == "null" => None,
            Some(v) => Some(
                v.parse::<usize>()
                    .ok()
                    .filter(|b| *b > 0)
                    .ok_or_else(|| format!("inter.worker.key.size: not a positive number of bits: {v}"))?,
            ),
        };
        let key_ttl_ms = match get("inter.worker.key.ttl.ms") {
            None => 3_600_000,
            Some(v) => v
                .parse::<i32>()
                .ok()
                .filter(|t| *t >= 0)
                .ok_or_else(|| {
                    format!("inter.worker.key.ttl.ms: not a number of ms in [0, 2147483647]: {v}")
                })?
                .into(),
        };
        let verification_algorithms: Vec<String> = match get("inter.worker.verification.algorithms") {
            None => vec!["HmacSHA256".into()],
            Some(v) => v
                .split(',')
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect(),
        };
        for a in &verification_algorithms {
            signature::default_key_bits(a)
                .map_err(|e| format!("inter.worker.verification.algorithms: {e}"))?;
        }
        if !verification_algorithms.contains(&signature_algorithm) {
            return Err(format!(
                "inter.worker.verification.algorithms: Signature algorithm '{signature_algorithm}' must be present in verification algorithms list"
            ));
        }
        Ok(SigningSettings {
            key_algorithm,
            key_bits,
            key_ttl_ms,
            signature_algorithm,
            verification_algorithms,
        })
    }
}

/// What a worker knows for signing and verifying, shared by the group loop and the herder.
#[derive(Debug)]
pub struct Signing {
    /// The settings.
    pub settings: SigningSettings,
    key: RwLock<Option<SessionKey>>,
    sessioned: AtomicBool,
}

impl Signing {
    /// No key yet, validation off until a `sessioned` generation is joined.
    pub fn new(settings: SigningSettings) -> Signing {
        Signing {
            settings,
            key: RwLock::new(None),
            sessioned: AtomicBool::new(false),
        }
    }

    /// The current session key.
    pub fn key(&self) -> Option<SessionKey> {
        self.key.read().expect("session key lock").clone()
    }

    /// Takes a key read from the config topic or just written (the newest wins).
    pub fn set_key(&self, key: SessionKey) {
        let mut k = self.key.write().expect("session key lock");
        let newer = k
            .as_ref()
            .is_none_or(|old| old.creation_timestamp <= key.creation_timestamp);
        if newer && k.as_ref() != Some(&key) {
            tracing::info!("Session key updated");
            *k = Some(key);
        }
    }

    /// Records the protocol of the joined generation (validation is on for `sessioned`).
    pub fn set_sessioned(&self, on: bool) {
        self.sessioned.store(on, Ordering::Relaxed);
    }

    /// Whether internal requests must be signed (`internalRequestValidationEnabled`).
    pub fn validation_enabled(&self) -> bool {
        self.sessioned.load(Ordering::Relaxed)
    }

    /// A new key when this worker leads and the current one is missing, expired or not of
    /// the configured algorithm and size (`checkForKeyRotation`).
    pub fn needs_new_key(&self, now_ms: i64) -> bool {
        if !self.validation_enabled() {
            return false;
        }
        match self.key() {
            None => true,
            Some(k) => {
                let bits = self
                    .settings
                    .key_bits
                    .or_else(|| signature::default_key_bits(&self.settings.key_algorithm).ok())
                    .unwrap_or(256);
                (self.settings.key_ttl_ms > 0
                    && k.creation_timestamp.saturating_add(self.settings.key_ttl_ms) <= now_ms)
                    || k.algorithm != self.settings.key_algorithm
                    || k.key.len() != bits.div_ceil(8)
            }
        }
    }

    /// The headers signing `body` with the current key, or `None` without a key.
    pub fn sign(&self, body: &[u8]) -> Option<[(&'static str, String); 2]> {
        let key = self.key()?;
        signature::headers(&self.settings.signature_algorithm, &key, body).ok()
    }

    /// Connect's `requestNotSignedProperly`: the error to answer, if any.
    pub fn check(&self, signature: Option<&RequestSignature>) -> Result<(), HerderError> {
        if !self.validation_enabled() {
            return Ok(());
        }
        let Some(sig) = signature else {
            return Err(HerderError::BadRequest(
                "Internal request missing required signature".into(),
            ));
        };
        if !self
            .settings
            .verification_algorithms
            .iter()
            .any(|a| a == sig.algorithm())
        {
            return Err(HerderError::BadRequest(format!(
                "This worker does not support the '{}' key signing algorithm used by other workers. \
                 This worker is currently configured to use: [{}]. \
                 Check that all workers' configuration files permit the same set of signature algorithms, \
                 and correct any misconfigured worker and restart it.",
                sig.algorithm(),
                self.settings.verification_algorithms.join(", ")
            )));
        }
        let Some(key) = self.key() else {
            return Err(HerderError::ServiceUnavailable(
                "This worker is still starting up and has not been able to read a session key from the config topic yet"
                    .into(),
            ));
        };
        if !sig.is_valid(&key) {
            return Err(HerderError::Status {
                status: 403,
                message: "Internal request contained invalid signature.".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    fn signing() -> Signing {
        Signing::new(SigningSettings {
            key_algorithm: "HmacSHA256".into(),
            key_bits: None,
            key_ttl_ms: 1000,
            signature_algorithm: "HmacSHA256".into(),
            verification_algorithms: vec!["HmacSHA256".into()],
        })
    }

    fn signed(s: &Signing, body: &[u8]) -> RequestSignature {
        let mut h = HeaderMap::new();
        for (k, v) in s.sign(body).unwrap() {
            h.insert(k, v.parse().unwrap());
        }
        RequestSignature::from_headers(body, &h).unwrap().unwrap()
    }

    #[test]
    fn checks_follow_connects_order_and_statuses() {
        let s = signing();
        assert!(s.check(None).is_ok(), "off until a sessioned generation");
        assert!(!s.needs_new_key(0));
        s.set_sessioned(true);
        assert!(s.needs_new_key(0));
        let e = s.check(None).unwrap_err();
        assert_eq!(e.to_string(), "Internal request missing required signature");
        s.set_key(SessionKey::generate("HmacSHA256", None, 100).unwrap());
        assert!(!s.needs_new_key(1099));
        assert!(s.needs_new_key(1100), "expired after the TTL");
        let body = br#"[{"task.class":"x"}]"#;
        let good = signed(&s, body);
        assert!(s.check(Some(&good)).is_ok());
        // The leader rotated: the old signature no longer verifies.
        let old = s.key().unwrap();
        s.set_key(SessionKey::generate("HmacSHA256", None, 200).unwrap());
        let e = s.check(Some(&good)).unwrap_err();
        assert!(matches!(e, HerderError::Status { status: 403, .. }), "{e:?}");
        assert_eq!(e.to_string(), "Internal request contained invalid signature.");
        // An older key read later does not replace the newer one.
        s.set_key(old);
        assert_eq!(s.key().unwrap().creation_timestamp, 200);
    }

    #[test]
    fn an_algorithm_outside_the_verification_list_is_400() {
        let s = signing();
        s.set_sessioned(true);
        s.set_key(SessionKey::generate("HmacSHA256", None, 1).unwrap());
        let body = b"[]";
        let mut h = HeaderMap::new();
        for (k, v) in signature::headers("HmacSHA512", &s.key().unwrap(), body).unwrap() {
            h.insert(k, v.parse().unwrap());
        }
        let sig = RequestSignature::from_headers(body, &h).unwrap().unwrap();
        let e = s.check(Some(&sig)).unwrap_err();
        assert!(matches!(e, HerderError::BadRequest(_)));
        assert!(e.to_string().starts_with("This worker does not support the 'HmacSHA512' key signing algorithm used by other workers. This worker is currently configured to use: [HmacSHA256]."), "{e}");
    }
}
