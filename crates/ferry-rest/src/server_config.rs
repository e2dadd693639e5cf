//! The REST server's settings, read from the worker properties as Kafka Connect's
//! `RestServerConfig` reads them: `listeners`, `admin.listeners`, the `listeners.https.`
//! / `admin.listeners.https.` TLS settings (falling back to the plain `ssl.*` keys),
//! `rest.extension.classes`, `access.control.allow.origin`/`.methods` and
//! `response.http.headers.config`.

use std::collections::BTreeMap;
use std::fmt;

use crate::auth::BasicAuth;
use crate::cors::Cors;
use crate::headers::HeaderRule;
use crate::tls::TlsSettings;

/// `listeners`.
pub const LISTENERS: &str = "listeners";
/// `admin.listeners`.
pub const ADMIN_LISTENERS: &str = "admin.listeners";
/// `rest.extension.classes`.
pub const REST_EXTENSION_CLASSES: &str = "rest.extension.classes";
/// `access.control.allow.origin`.
pub const ACCESS_CONTROL_ALLOW_ORIGIN: &str = "access.control.allow.origin";
/// `access.control.allow.methods`.
pub const ACCESS_CONTROL_ALLOW_METHODS: &str = "access.control.allow.methods";
/// `response.http.headers.config`.
pub const RESPONSE_HTTP_HEADERS_CONFIG: &str = "response.http.headers.config";
/// Prefix of the main listeners' TLS settings.
pub const LISTENERS_HTTPS_PREFIX: &str = "listeners.https.";
/// Prefix of the admin listeners' TLS settings.
pub const ADMIN_LISTENERS_HTTPS_PREFIX: &str = "admin.listeners.https.";

/// A configuration problem of the REST server, naming the key.
#[derive(Debug, thiserror::Error)]
pub enum ServerConfigError {
    /// A key has a value Ferry cannot use.
    #[error("Invalid value {value} for configuration {key}: {reason}")]
    Invalid {
        /// The setting.
        key: String,
        /// Its value (passwords are never put here).
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A setting refers to something that cannot be read or used (a file, a class).
    #[error("{key}: {reason}")]
    Setting {
        /// The setting (or the JAAS option) at fault.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

impl ServerConfigError {
    pub(crate) fn invalid(key: &str, value: &str, reason: impl Into<String>) -> Self {
        ServerConfigError::Invalid {
            key: key.to_owned(),
            value: value.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn setting(key: &str, reason: impl Into<String>) -> Self {
        ServerConfigError::Setting {
            key: key.to_owned(),
            reason: reason.into(),
        }
    }
}

/// `http` or `https`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

/// One `protocol://host:port` entry of `listeners` or `admin.listeners`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listener {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// Host to bind (empty: every interface).
    pub host: String,
    /// Port (0: any free port).
    pub port: u16,
}

impl Listener {
    /// Parses a listener URL as Connect does (`protocol://[host]:port`, IPv6 hosts in brackets).
    pub fn parse(key: &str, raw: &str) -> Result<Listener, ServerConfigError> {
        let raw = raw.trim();
        let form = "Listener doesn't have the right format (protocol://hostname:port).";
        let (protocol, rest) = raw
            .split_once("://")
            .ok_or_else(|| ServerConfigError::invalid(key, raw, form))?;
        let scheme = match protocol.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => {
                return Err(ServerConfigError::invalid(
                    key,
                    raw,
                    "Listener protocol must be either \"http\" or \"https\".",
                ));
            }
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| ServerConfigError::invalid(key, raw, form))?;
        let port: u16 = port
            .parse()
            .map_err(|_| ServerConfigError::invalid(key, raw, form))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let host_ok = host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-%._:".contains(c));
        if !host_ok {
            return Err(ServerConfigError::invalid(key, raw, form));
        }
        Ok(Listener {
            scheme,
            host: host.to_owned(),
            port,
        })
    }

    /// The address to bind: an empty host or `0.0.0.0` is every interface.
    pub fn bind_host(&self) -> &str {
        if self.host.is_empty() {
            "0.0.0.0"
        } else {
            &self.host
        }
    }
}

impl fmt::Display for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// Where the admin endpoints (`/admin/*`) are served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminListeners {
    /// `admin.listeners` absent: on the main listeners.
    Main,
    /// `admin.listeners` empty: nowhere (404).
    Disabled,
    /// On these listeners only.
    Separate(Vec<Listener>),
}

/// Everything the REST server needs from the worker properties.
#[derive(Clone, Debug)]
pub struct RestServerConfig {
    /// The main listeners (at least one).
    pub listeners: Vec<Listener>,
    /// Where `/admin/*` is served.
    pub admin_listeners: AdminListeners,
    /// TLS of the main HTTPS listeners (present when one is HTTPS).
    pub tls: Option<TlsSettings>,
    /// TLS of the admin HTTPS listeners (present when one is HTTPS).
    pub admin_tls: Option<TlsSettings>,
    /// `BasicAuthSecurityRestExtension`, when listed in `rest.extension.classes`.
    pub basic_auth: Option<BasicAuth>,
    /// CORS, when `access.control.allow.origin` is set.
    pub cors: Option<Cors>,
    /// `response.http.headers.config` rules.
    pub headers: Vec<HeaderRule>,
}

/// The JAAS configuration file named by `-Djava.security.auth.login.config=` in
/// `KAFKA_OPTS` (how the debezium/connect and cp-kafka-connect images pass it).
pub fn jaas_file_from_env() -> Option<String> {
    let opts = std::env::var("KAFKA_OPTS").ok()?;
    jaas_file_from_opts(&opts)
}

/// The value of `-Djava.security.auth.login.config=` in a JVM options string.
pub fn jaas_file_from_opts(opts: &str) -> Option<String> {
    split_jvm_options(opts)
        .into_iter()
        .rev()
        .find_map(|o| {
            o.strip_prefix("-Djava.security.auth.login.config=")
                .map(str::to_owned)
        })
        .map(|v| v.strip_prefix('=').map(str::to_owned).unwrap_or(v))
        .filter(|v| !v.is_empty())
}

/// Splits JVM options on whitespace, keeping quoted parts together (quotes removed).
fn split_jvm_options(opts: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in opts.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                any = true;
            }
            None if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            None => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Splits a Connect LIST value: comma-separated, trimmed, empty entries dropped.
pub(crate) fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl RestServerConfig {
    /// Reads the settings from worker properties.
    ///
    /// `fallback` is the listener used when `listeners` is absent (Ferry's worker config
    /// derives it from the pre-3.0 `rest.host.name`/`rest.port`); `jaas_file` is the
    /// JAAS configuration file (`java.security.auth.login.config`), needed only when
    /// `BasicAuthSecurityRestExtension` is listed.
    pub fn from_properties<'a>(
        props: impl IntoIterator<Item = (&'a String, &'a String)>,
        fallback: Listener,
        jaas_file: Option<&str>,
    ) -> Result<RestServerConfig, ServerConfigError> {
        let props: BTreeMap<&str, &str> = props.into_iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let get = |k: &str| props.get(k).copied();
        let listeners = match get(LISTENERS) {
            Some(v) => {
                let items = list(v);
                if items.is_empty() {
                    return Err(ServerConfigError::invalid(
                        LISTENERS,
                        v,
                        "Invalid value for listeners, at least one URL is expected, ex: http://localhost:8080,https://localhost:8443.",
                    ));
                }
                items
                    .iter()
                    .map(|l| Listener::parse(LISTENERS, l))
                    .collect::<Result<Vec<_>, _>>()?
            }
            None => vec![fallback],
        };
        let admin_listeners = match get(ADMIN_LISTENERS) {
            None => AdminListeners::Main,
            Some(v) => {
                let items = list(v);
                if items.is_empty() {
                    AdminListeners::Disabled
                } else {
                    AdminListeners::Separate(
                        items
                            .iter()
                            .map(|l| Listener::parse(ADMIN_LISTENERS, l))
                            .collect::<Result<Vec<_>, _>>()?,
                    )
                }
            }
        };
        let any_https = |ls: &[Listener]| ls.iter().any(|l| l.scheme == Scheme::Https);
        let tls = if any_https(&listeners) {
            Some(TlsSettings::from_properties(&props, LISTENERS_HTTPS_PREFIX)?)
        } else {
            None
        };
        let admin_tls = match &admin_listeners {
            AdminListeners::Separate(ls) if any_https(ls) => Some(TlsSettings::from_properties(
                &props,
                ADMIN_LISTENERS_HTTPS_PREFIX,
            )?),
            _ => None,
        };
        let mut basic_auth = None;
        for class in list(get(REST_EXTENSION_CLASSES).unwrap_or("")) {
            if class == crate::auth::BASIC_AUTH_EXTENSION {
                basic_auth = Some(BasicAuth::from_jaas_file(jaas_file)?);
            } else {
                return Err(ServerConfigError::setting(
                    REST_EXTENSION_CLASSES,
                    format!(
                        "Ferry has no REST extension {class}; built in: {} (see docs/operations.md)",
                        crate::auth::BASIC_AUTH_EXTENSION
                    ),
                ));
            }
        }
        let cors = match get(ACCESS_CONTROL_ALLOW_ORIGIN).map(str::trim) {
            Some(origins) if !origins.is_empty() => Some(Cors::new(
                origins,
                get(ACCESS_CONTROL_ALLOW_METHODS).unwrap_or(""),
            )?),
            _ => None,
        };
        let headers = match get(RESPONSE_HTTP_HEADERS_CONFIG) {
            Some(v) => crate::headers::parse_rules(v)?,
            None => Vec::new(),
        };
        Ok(RestServerConfig {
            listeners,
            admin_listeners,
            tls,
            admin_tls,
            basic_auth,
            cors,
            headers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Result<RestServerConfig, ServerConfigError> {
        let props: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let fallback = Listener::parse(LISTENERS, "http://:8083").unwrap();
        RestServerConfig::from_properties(props.iter().map(|(k, v)| (k, v)), fallback, None)
    }

    #[test]
    fn listeners_parse_like_connect() {
        let l = Listener::parse(LISTENERS, "HTTPS://[::1]:8443/").unwrap();
        assert_eq!((l.scheme, l.host.as_str(), l.port), (Scheme::Https, "::1", 8443));
        assert_eq!(l.to_string(), "https://[::1]:8443");
        assert_eq!(
            Listener::parse(LISTENERS, "http://:8083").unwrap().bind_host(),
            "0.0.0.0"
        );
        let err = Listener::parse(LISTENERS, "ftp://x:1").unwrap_err().to_string();
        assert_eq!(
            err,
            "Invalid value ftp://x:1 for configuration listeners: Listener protocol must be either \"http\" or \"https\"."
        );
        assert!(Listener::parse(LISTENERS, "localhost:8083")
            .unwrap_err()
            .to_string()
            .contains("protocol://hostname:port"));
        assert!(Listener::parse(LISTENERS, "http://host").is_err());
    }

    #[test]
    fn admin_listeners_absent_empty_or_set() {
        assert_eq!(cfg(&[]).unwrap().admin_listeners, AdminListeners::Main);
        assert_eq!(
            cfg(&[(ADMIN_LISTENERS, " ")]).unwrap().admin_listeners,
            AdminListeners::Disabled
        );
        let c = cfg(&[(ADMIN_LISTENERS, "http://127.0.0.1:0")]).unwrap();
        assert!(matches!(c.admin_listeners, AdminListeners::Separate(ref l) if l.len() == 1));
        let c = cfg(&[(LISTENERS, "http://a:1, https://b:2")]);
        // An HTTPS listener without a key store is refused, naming the key.
        let err = c.unwrap_err().to_string();
        assert!(err.contains("ssl.keystore.location"), "{err}");
    }

    #[test]
    fn unknown_rest_extensions_stop_start_up() {
        let err = cfg(&[(REST_EXTENSION_CLASSES, "com.example.Audit")])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("rest.extension.classes: Ferry has no REST extension com.example.Audit"),
            "{err}"
        );
    }

    #[test]
    fn jaas_file_is_read_from_jvm_options() {
        let opts = "-Xmx1g -Djava.security.auth.login.config=/etc/kafka/jaas.conf -Dfoo=bar";
        assert_eq!(jaas_file_from_opts(opts).as_deref(), Some("/etc/kafka/jaas.conf"));
        let quoted = "-Dx=1 \"-Djava.security.auth.login.config=/a b/jaas.conf\"";
        assert_eq!(jaas_file_from_opts(quoted).as_deref(), Some("/a b/jaas.conf"));
        // `==` replaces the JVM's whole configuration: same file for Ferry.
        assert_eq!(
            jaas_file_from_opts("-Djava.security.auth.login.config==/j.conf").as_deref(),
            Some("/j.conf")
        );
        assert_eq!(jaas_file_from_opts("-Xmx1g"), None);
    }
}
