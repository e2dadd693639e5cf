//! The REST listener: where the API binds (`listeners`, or the pre-3.0 `rest.host.name`
//! and `rest.port`) and the `host:port` other workers and status records see.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use ferry_core::config::ParsedConfig;
use ferry_core::ConfigError;

use super::def::{LISTENERS, REST_ADVERTISED_HOST_NAME, REST_ADVERTISED_PORT, REST_HOST_NAME, REST_PORT};

/// Where the REST API listens and how this worker is named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RestAddresses {
    /// Address the REST server binds to.
    pub bind: SocketAddr,
    /// `host:port` advertised to other workers and written in statuses.
    pub worker_id: String,
}

/// Reads the REST settings of a parsed worker configuration.
pub(crate) fn rest_addresses(p: &ParsedConfig) -> Result<RestAddresses, ConfigError> {
    let bind = match p.list(LISTENERS).first() {
        Some(listener) => parse_listener(LISTENERS, listener)?,
        None => {
            let port = p.int(REST_PORT).ok_or_else(|| ConfigError::missing(REST_PORT))?;
            let port =
                u16::try_from(port).map_err(|_| ConfigError::invalid(REST_PORT, port, "Not a valid port"))?;
            // No host name: every interface, as an empty host in a listener URL.
            let host = p.string(REST_HOST_NAME).unwrap_or_default();
            parse_listener(REST_HOST_NAME, &format!("http://{host}:{port}"))?
        }
    };
    let host = match p.string(REST_ADVERTISED_HOST_NAME) {
        Some(h) => h.to_owned(),
        None if bind.ip().is_unspecified() => hostname(),
        None => bind.ip().to_string(),
    };
    // The validator has checked the range.
    let port = p.int(REST_ADVERTISED_PORT).map_or(bind.port(), |v| v as u16);
    Ok(RestAddresses {
        bind,
        worker_id: format!("{host}:{port}"),
    })
}

/// Parses an `http://host:port` listener; `key` is the setting named in errors.
fn parse_listener(key: &str, raw: &str) -> Result<SocketAddr, ConfigError> {
    let lower = raw.trim().to_ascii_lowercase();
    // HTTPS listeners bind the same way; ferry-rest sets up their TLS (listeners.https.ssl.*).
    let rest = if let Some(r) = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"))
    {
        r
    } else {
        return Err(ConfigError::invalid(
            key,
            raw,
            "Listener must be of the form http://host:port",
        ));
    };
    let (host, port) = rest
        .rsplit_once(':')
        .ok_or_else(|| ConfigError::invalid(key, raw, "Listener must include a port"))?;
    let port: u16 = port
        .trim_end_matches('/')
        .parse()
        .map_err(|_| ConfigError::invalid(key, raw, "Listener port is not a number"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = if host.is_empty() || host == "0.0.0.0" {
        Ipv4Addr::UNSPECIFIED.into()
    } else if host == "localhost" {
        Ipv4Addr::LOCALHOST.into()
    } else {
        host.parse().map_err(|_| {
            ConfigError::invalid(
                key,
                raw,
                "Listener host must be an IP address, localhost or empty",
            )
        })?
    };
    Ok(SocketAddr::new(ip, port))
}

/// This machine's host name (what a worker bound to every interface advertises).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_accept_http_urls_with_any_host_form() {
        let ok = |raw: &str| parse_listener(LISTENERS, raw).unwrap().to_string();
        assert_eq!(ok("http://:8083"), "0.0.0.0:8083");
        assert_eq!(ok("HTTP://0.0.0.0:8083/"), "0.0.0.0:8083");
        assert_eq!(ok("http://localhost:1"), "127.0.0.1:1");
        assert_eq!(ok("http://[::1]:8083"), "[::1]:8083");
    }

    #[test]
    fn listener_errors_say_what_is_wrong() {
        let err = |raw: &str| parse_listener(LISTENERS, raw).unwrap_err().to_string();
        assert_eq!(
            err("0.0.0.0:8083"),
            "Invalid value 0.0.0.0:8083 for configuration listeners: Listener must be of the form http://host:port"
        );
        assert_eq!(
            err("http://0.0.0.0"),
            "Invalid value http://0.0.0.0 for configuration listeners: Listener must include a port"
        );
        assert_eq!(
            parse_listener(LISTENERS, "https://:8443").unwrap().to_string(),
            "0.0.0.0:8443"
        );
    }
}
