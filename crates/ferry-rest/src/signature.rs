//! Signed internal requests between workers (KIP-507), as Kafka Connect's
//! `InternalRequestSignature` does them: the group leader distributes a session key
//! through the config topic; a worker forwarding an internal request (`POST
//! /connectors/NAME/tasks`) signs the request body with it (an HMAC, base64 in
//! `X-Connect-Authorization`, the algorithm's Java name in
//! `X-Connect-Request-Signature-Algorithm`), and the leader checks the signature when the
//! group runs on `connect.protocol=sessioned`.

use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha384, Sha512};

use crate::HerderError;

/// The header holding the base64 signature.
pub const SIGNATURE_HEADER: &str = "X-Connect-Authorization";
/// The header naming the signature algorithm.
pub const SIGNATURE_ALGORITHM_HEADER: &str = "X-Connect-Request-Signature-Algorithm";

/// The HMAC algorithms Ferry signs and verifies with, by their Java (JCA) names.
pub const ALGORITHMS: [&str; 3] = ["HmacSHA256", "HmacSHA384", "HmacSHA512"];

/// A session key as the config topic's `session-key` record carries it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKey {
    /// The raw key bytes.
    pub key: Vec<u8>,
    /// The key's algorithm (`HmacSHA256`).
    pub algorithm: String,
    /// When the leader generated it, in ms since the epoch.
    pub creation_timestamp: i64,
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKey")
            .field("key", &format_args!("<{} bytes>", self.key.len()))
            .field("algorithm", &self.algorithm)
            .field("creation_timestamp", &self.creation_timestamp)
            .finish()
    }
}

/// Problems with the signing settings or a key.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    /// Not an algorithm Ferry knows (Java: `NoSuchAlgorithmException`).
    #[error("Algorithm {0} not available")]
    UnknownAlgorithm(String),
    /// The operating system gave no random bytes.
    #[error("could not generate a session key: {0}")]
    Random(String),
}

/// The default key size of Java's `KeyGenerator` for an HMAC algorithm, in bits.
pub fn default_key_bits(algorithm: &str) -> Result<usize, SignatureError> {
    match algorithm {
        "HmacSHA256" => Ok(256),
        "HmacSHA384" => Ok(384),
        "HmacSHA512" => Ok(512),
        other => Err(SignatureError::UnknownAlgorithm(other.to_owned())),
    }
}

impl SessionKey {
    /// A new random key of `bits` bits (the algorithm's default when `None`), created `now_ms`.
    pub fn generate(algorithm: &str, bits: Option<usize>, now_ms: i64) -> Result<SessionKey, SignatureError> {
        let bits = match bits {
            Some(b) => b,
            None => default_key_bits(algorithm)?,
        };
        default_key_bits(algorithm)?;
        let mut key = vec![0u8; bits.div_ceil(8).max(1)];
        getrandom::getrandom(&mut key).map_err(|e| SignatureError::Random(e.to_string()))?;
        Ok(SessionKey {
            key,
            algorithm: algorithm.to_owned(),
            creation_timestamp: now_ms,
        })
    }
}

fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], body: &[u8]) -> Vec<u8> {
    let mut m = <M as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

/// `Mac.getInstance(algorithm)`, `init(key)`, `doFinal(body)`.
pub fn sign(algorithm: &str, key: &[u8], body: &[u8]) -> Result<Vec<u8>, SignatureError> {
    match algorithm {
        "HmacSHA256" => Ok(mac::<Hmac<Sha256>>(key, body)),
        "HmacSHA384" => Ok(mac::<Hmac<Sha384>>(key, body)),
        "HmacSHA512" => Ok(mac::<Hmac<Sha512>>(key, body)),
        other => Err(SignatureError::UnknownAlgorithm(other.to_owned())),
    }
}

/// The two headers of a signed request: (`X-Connect-Authorization`, base64 signature) and
/// (`X-Connect-Request-Signature-Algorithm`, algorithm).
pub fn headers(
    algorithm: &str,
    key: &SessionKey,
    body: &[u8],
) -> Result<[(&'static str, String); 2], SignatureError> {
    let signature = sign(algorithm, &key.key, body)?;
    Ok([
        (SIGNATURE_HEADER, BASE64.encode(signature)),
        (SIGNATURE_ALGORITHM_HEADER, algorithm.to_owned()),
    ])
}

/// A request's signature, read from its headers (`InternalRequestSignature.fromHeaders`).
#[derive(Clone, Debug)]
pub struct RequestSignature {
    body: Vec<u8>,
    algorithm: String,
    signature: Vec<u8>,
}

impl RequestSignature {
    /// `None` when either header is missing; 400 for an unknown algorithm or a signature
    /// that is not base64, with Java's messages.
    pub fn from_headers(body: &[u8], headers: &HeaderMap) -> Result<Option<RequestSignature>, HerderError> {
        let get = |name: &str| {
            headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        let (Some(algorithm), Some(encoded)) = (get(SIGNATURE_ALGORITHM_HEADER), get(SIGNATURE_HEADER))
        else {
            return Ok(None);
        };
        default_key_bits(&algorithm).map_err(|e| HerderError::BadRequest(e.to_string()))?;
        let signature = BASE64
            .decode(encoded.as_bytes())
            .map_err(|e| HerderError::BadRequest(java_base64_message(&e)))?;
        Ok(Some(RequestSignature {
            body: body.to_vec(),
            algorithm,
            signature,
        }))
    }

    /// The algorithm the sender used (`keyAlgorithm()`).
    pub fn algorithm(&self) -> &str {
        &self.algorithm
    }

    /// Whether the body's HMAC under `key` equals the signature (constant time).
    pub fn is_valid(&self, key: &SessionKey) -> bool {
        let Ok(expected) = sign(&self.algorithm, &key.key, &self.body) else {
            return false;
        };
        expected.len() == self.signature.len()
            && expected
                .iter()
                .zip(&self.signature)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// `java.util.Base64.Decoder`'s message for the common failures.
fn java_base64_message(e: &base64::DecodeError) -> String {
    match e {
        base64::DecodeError::InvalidByte(_, b) => format!("Illegal base64 character {b:x}"),
        base64::DecodeError::InvalidLength(_) | base64::DecodeError::InvalidLastSymbol(_, _) => {
            "Last unit does not have enough valid bits".into()
        }
        base64::DecodeError::InvalidPadding => "Input byte array has wrong 4-byte ending unit".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector was computed the Java way, with Java 17 (`java Sig.java`), as Connect's
    /// `InternalRequestSignature.sign` does it:
    /// ```text
    /// byte[] k = new byte[32]; for (int i = 0; i < 32; i++) k[i] = (byte) i;
    /// Mac mac = Mac.getInstance("HmacSHA256"); mac.init(new SecretKeySpec(k, "HmacSHA256"));
    /// Base64.getEncoder().encodeToString(mac.doFinal("[{\"k\":\"v\"}]".getBytes(UTF_8)))
    /// ```
    /// The same program printed 32 for `KeyGenerator.getInstance("HmacSHA256")`'s key
    /// length, `Illegal base64 character 21` for decoding `!!` and `Algorithm HmacMD9 not
    /// available` for `Mac.getInstance("HmacMD9")`.
    #[test]
    fn hmac_sha256_signature_matches_javas() {
        let key = SessionKey {
            key: (0u8..32).collect(),
            algorithm: "HmacSHA256".into(),
            creation_timestamp: 0,
        };
        let [(h1, sig), (h2, alg)] = headers("HmacSHA256", &key, br#"[{"k":"v"}]"#).unwrap();
        assert_eq!(h1, "X-Connect-Authorization");
        assert_eq!(h2, "X-Connect-Request-Signature-Algorithm");
        assert_eq!(alg, "HmacSHA256");
        assert_eq!(sig, JAVA_SIGNATURE);
    }

    const JAVA_SIGNATURE: &str = "ah4TWWC//lk+uyxOX8Igc5ECqRJ0Dwmj2K0s5a452dE=";

    #[test]
    fn a_changed_body_or_key_is_refused_and_bad_headers_are_400() {
        let key = SessionKey::generate("HmacSHA256", None, 1).unwrap();
        assert_eq!(key.key.len(), 32);
        let body = br#"[{"a":"b"}]"#;
        let mut h = HeaderMap::new();
        for (k, v) in headers("HmacSHA256", &key, body).unwrap() {
            h.insert(k, v.parse().unwrap());
        }
        let ok = RequestSignature::from_headers(body, &h).unwrap().unwrap();
        assert!(ok.is_valid(&key));
        let changed = RequestSignature::from_headers(br#"[{"a":"c"}]"#, &h)
            .unwrap()
            .unwrap();
        assert!(!changed.is_valid(&key));
        let other = SessionKey::generate("HmacSHA256", None, 2).unwrap();
        assert!(!ok.is_valid(&other));
        assert!(RequestSignature::from_headers(body, &HeaderMap::new())
            .unwrap()
            .is_none());
        h.insert(SIGNATURE_ALGORITHM_HEADER, "HmacMD9".parse().unwrap());
        let e = RequestSignature::from_headers(body, &h).unwrap_err();
        assert_eq!(e.to_string(), "Algorithm HmacMD9 not available");
        h.insert(SIGNATURE_ALGORITHM_HEADER, "HmacSHA256".parse().unwrap());
        h.insert(SIGNATURE_HEADER, "!!".parse().unwrap());
        let e = RequestSignature::from_headers(body, &h).unwrap_err();
        assert_eq!(e.to_string(), "Illegal base64 character 21");
    }
}
