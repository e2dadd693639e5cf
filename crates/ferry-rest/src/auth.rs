//! HTTP Basic authentication as Kafka Connect's `BasicAuthSecurityRestExtension` does it:
//! the `KafkaConnect` entry of the JAAS configuration file names
//! `PropertyFileLoginModule` with `file="…"`, a properties file of `user=password` lines.
//!
//! Behaviour kept from Connect: a request without valid credentials gets 401 with the
//! body `User cannot access the resource.` and no `WWW-Authenticate` header; the
//! internal `POST /connectors/{name}/tasks` and `PUT /connectors/{name}/fence` are not
//! authenticated (they carry the cluster's own signature); requests that match no
//! endpoint reach the router (404/405), as Jersey's filter runs after matching; an
//! empty credentials file lets everyone in (with a warning). Ferry reads the files at
//! start-up and stops there, naming the file, when one cannot be read (Connect fails
//! each request instead).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;

use crate::server_config::ServerConfigError;
use crate::RestError;

/// Connect's class name for the basic authentication extension.
pub const BASIC_AUTH_EXTENSION: &str =
    "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension";
/// The login module the JAAS entry must name.
pub const PROPERTY_FILE_LOGIN_MODULE: &str =
    "org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule";
/// The JAAS entry Connect looks up.
pub const LOGIN_CONTEXT: &str = "KafkaConnect";
/// Connect's 401 body.
pub const UNAUTHORIZED_BODY: &str = "User cannot access the resource.";
const JAAS_KEY: &str = "java.security.auth.login.config";

/// How a JAAS login module's result counts (`required`, `requisite`, `sufficient`, `optional`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    /// Must succeed; the others are still tried.
    Required,
    /// Must succeed; a failure ends the login.
    Requisite,
    /// A success ends the login (when nothing required failed before it).
    Sufficient,
    /// Counts only when no module is required or requisite.
    Optional,
}

/// One `PropertyFileLoginModule` of the `KafkaConnect` entry, with its credentials.
#[derive(Clone, Debug)]
struct Module {
    flag: Flag,
    /// user → password; empty: everyone is let in.
    users: HashMap<String, String>,
}

/// Basic authentication over the credentials files of the JAAS `KafkaConnect` entry.
#[derive(Clone, Debug)]
pub struct BasicAuth {
    modules: Arc<Vec<Module>>,
}

/// A login module line of a JAAS entry: class, flag and options.
pub(crate) type JaasModule = (String, Flag, Vec<(String, String)>);

/// One entry of a JAAS configuration file: name and its modules.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct JaasEntry {
    pub name: String,
    pub modules: Vec<JaasModule>,
}

impl BasicAuth {
    /// Reads the JAAS file (`java.security.auth.login.config`) and the credentials files it names.
    pub fn from_jaas_file(path: Option<&str>) -> Result<BasicAuth, ServerConfigError> {
        let path = path.ok_or_else(|| {
            ServerConfigError::setting(
                crate::server_config::REST_EXTENSION_CLASSES,
                format!(
                    "BasicAuthSecurityRestExtension needs a JAAS file: set KAFKA_OPTS=-D{JAAS_KEY}=/path/to/jaas.conf"
                ),
            )
        })?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| ServerConfigError::setting(JAAS_KEY, format!("cannot read {path}: {e}")))?;
        let entries =
            parse_jaas(&text).map_err(|e| ServerConfigError::setting(JAAS_KEY, format!("{path}: {e}")))?;
        // As javax.security.auth.login.LoginContext: the named entry, else `other`.
        let entry = entries
            .iter()
            .find(|e| e.name == LOGIN_CONTEXT)
            .or_else(|| entries.iter().find(|e| e.name == "other"))
            .ok_or_else(|| {
                ServerConfigError::setting(JAAS_KEY, format!("{path} has no {LOGIN_CONTEXT} entry"))
            })?;
        let mut modules = Vec::new();
        for (class, flag, options) in &entry.modules {
            if class != PROPERTY_FILE_LOGIN_MODULE {
                return Err(ServerConfigError::setting(
                    JAAS_KEY,
                    format!(
                        "{path}: login module {class} is not built into Ferry; use {PROPERTY_FILE_LOGIN_MODULE}"
                    ),
                ));
            }
            let file = options
                .iter()
                .find(|(k, _)| k == "file")
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| {
                    ServerConfigError::setting(
                        JAAS_KEY,
                        format!("{path}: Property Credentials file must be specified"),
                    )
                })?;
            let users = read_credentials(file)?;
            if users.is_empty() {
                tracing::warn!(
                    file,
                    "Credential properties file is empty; all requests will be permitted"
                );
            }
            modules.push(Module { flag: *flag, users });
        }
        if modules.is_empty() {
            return Err(ServerConfigError::setting(
                JAAS_KEY,
                format!("{path}: the {} entry names no login module", entry.name),
            ));
        }
        Ok(BasicAuth {
            modules: Arc::new(modules),
        })
    }

    /// Credentials given directly (for embedding and tests): one required module.
    pub fn from_users(users: impl IntoIterator<Item = (String, String)>) -> BasicAuth {
        BasicAuth {
            modules: Arc::new(vec![Module {
                flag: Flag::Required,
                users: users.into_iter().collect(),
            }]),
        }
    }

    /// Whether an `Authorization` header value lets the request in (JAAS flag rules).
    ///
    /// `Err` carries the message of a `Basic` value that is not base64, which Connect
    /// answers with 500 (the decoder's exception is not a login failure).
    pub fn check(&self, authorization: Option<&str>) -> Result<bool, String> {
        let creds = match authorization {
            Some(value) => parse_basic(value)?,
            None => None,
        };
        let login = |m: &Module| {
            if m.users.is_empty() {
                return true;
            }
            match &creds {
                Some((user, password)) => m.users.get(user) == Some(password),
                None => false,
            }
        };
        let mut required_failed = false;
        let mut required_seen = false;
        let mut optional_ok = false;
        for m in self.modules.iter() {
            let ok = login(m);
            match m.flag {
                Flag::Required => {
                    required_seen = true;
                    required_failed |= !ok;
                }
                Flag::Requisite => {
                    required_seen = true;
                    if !ok {
                        return Ok(false);
                    }
                }
                Flag::Sufficient => {
                    if ok && !required_failed {
                        return Ok(true);
                    }
                }
                Flag::Optional => optional_ok |= ok,
            }
        }
        Ok(if required_seen {
            !required_failed
        } else {
            optional_ok
        })
    }

    /// Whether an `Authorization` header value lets the request in (an undecodable one does not).
    pub fn permits(&self, authorization: Option<&str>) -> bool {
        self.check(authorization).unwrap_or(false)
    }
}

/// `Basic base64(user:password)` as Connect's `BasicAuthCredentials` reads it: no credentials
/// for another scheme or a value without `user:`; `Err` (Java's decoder message) for a
/// `Basic` value that is not base64.
fn parse_basic(value: &str) -> Result<Option<(String, String)>, String> {
    let Some((method, rest)) = value.split_once(' ') else {
        return Ok(None);
    };
    if method.is_empty() || !method.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest)
        .map_err(java_base64_message)?;
    let decoded = String::from_utf8_lossy(&decoded);
    Ok(match decoded.split_once(':') {
        Some((user, password)) if !user.is_empty() => Some((user.to_owned(), password.to_owned())),
        _ => None,
    })
}

/// The message `java.util.Base64.Decoder` gives for what the base64 crate refuses.
fn java_base64_message(e: base64::DecodeError) -> String {
    match e {
        base64::DecodeError::InvalidByte(_, b) => {
            // Java prints the (signed) byte in hex.
            let v = b as i8;
            if v < 0 {
                format!("Illegal base64 character -{:x}", -(v as i32))
            } else {
                format!("Illegal base64 character {v:x}")
            }
        }
        base64::DecodeError::InvalidLength(_) => "Last unit does not have enough valid bits".to_owned(),
        _ => "Input byte array has wrong 4-byte ending unit".to_owned(),
    }
}

fn read_credentials(file: &str) -> Result<HashMap<String, String>, ServerConfigError> {
    let f = std::fs::File::open(file).map_err(|e| {
        ServerConfigError::setting(
            JAAS_KEY,
            format!("Error loading Property Credentials file {file}: {e}"),
        )
    })?;
    java_properties::read(std::io::BufReader::new(f))
        .map(|m| m.into_iter().collect())
        .map_err(|e| {
            ServerConfigError::setting(
                JAAS_KEY,
                format!("Error loading Property Credentials file {file}: {e}"),
            )
        })
}

/// Parses a JAAS login configuration file (`Name { class flag key="value" ...; };`),
/// with `//`, `/* */` and `#` comments.
pub(crate) fn parse_jaas(text: &str) -> Result<Vec<JaasEntry>, String> {
    let tokens = jaas_tokens(text)?;
    let mut it = tokens.into_iter().peekable();
    let mut entries = Vec::new();
    while let Some(name) = it.next() {
        let name = name.word().ok_or("expected an entry name")?;
        if it.next().and_then(|t| t.punct()) != Some('{') {
            return Err(format!("expected {{ after {name}"));
        }
        let mut modules = Vec::new();
        loop {
            match it.next() {
                Some(Tok::Punct('}')) => break,
                Some(Tok::Word(class)) => {
                    let flag = match it
                        .next()
                        .and_then(|t| t.word())
                        .map(|f| f.to_ascii_lowercase())
                        .as_deref()
                    {
                        Some("required") => Flag::Required,
                        Some("requisite") => Flag::Requisite,
                        Some("sufficient") => Flag::Sufficient,
                        Some("optional") => Flag::Optional,
                        other => return Err(format!("{class}: bad control flag {other:?}")),
                    };
                    let mut options = Vec::new();
                    loop {
                        match it.next() {
                            Some(Tok::Punct(';')) => break,
                            Some(Tok::Word(key)) => {
                                if it.next().and_then(|t| t.punct()) != Some('=') {
                                    return Err(format!("{class}: expected = after option {key}"));
                                }
                                let value = match it.next() {
                                    Some(Tok::Word(v)) | Some(Tok::Quoted(v)) => v,
                                    _ => return Err(format!("{class}: option {key} has no value")),
                                };
                                options.push((key, value));
                            }
                            _ => return Err(format!("{class}: expected an option or ;")),
                        }
                    }
                    modules.push((class, flag, options));
                }
                _ => return Err(format!("entry {name}: expected a login module or }}")),
            }
        }
        if it.peek().and_then(Tok::punct) == Some(';') {
            it.next();
        }
        entries.push(JaasEntry { name, modules });
    }
    Ok(entries)
}

#[derive(Debug)]
enum Tok {
    Word(String),
    Quoted(String),
    Punct(char),
}

impl Tok {
    fn word(self) -> Option<String> {
        match self {
            Tok::Word(w) => Some(w),
            _ => None,
        }
    }
    fn punct(&self) -> Option<char> {
        match self {
            Tok::Punct(c) => Some(*c),
            _ => None,
        }
    }
}

fn jaas_tokens(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '#' || (c == '/' && chars.get(i + 1) == Some(&'/')) {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if "{};=".contains(c) {
            out.push(Tok::Punct(c));
            i += 1;
        } else if c == '"' || c == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("unterminated quoted value".into()),
                    Some(&q) if q == c => break,
                    Some('\\') if chars.get(i + 1).is_some() => {
                        s.push(chars[i + 1]);
                        i += 2;
                        continue;
                    }
                    Some(&ch) => s.push(ch),
                }
                i += 1;
            }
            i += 1;
            out.push(Tok::Quoted(s));
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && !"{};=\"'".contains(chars[i]) {
                i += 1;
            }
            out.push(Tok::Word(chars[start..i].iter().collect()));
        }
    }
    Ok(out)
}

/// Whether a request skips authentication: Connect's internal endpoints.
fn is_internal(method: &Method, path: &str) -> bool {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segs.as_slice()) {
        (&Method::POST, ["connectors", name, "tasks"]) => !name.is_empty(),
        (&Method::PUT, ["connectors", name, "fence"]) => !name.is_empty(),
        _ => false,
    }
}

/// Whether a path matches one of the served `(method, template)` routes (so Jersey would
/// have matched a resource and run the filter; `OPTIONS` matches any method, as Jersey
/// answers it for every resource). `/ui` pages count as routes.
pub(crate) fn matches_a_route(method: &Method, path: &str, routes: &[(&str, &str)]) -> bool {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let head = method == Method::HEAD;
    let options = method == Method::OPTIONS;
    routes.iter().any(|(m, template)| {
        let method_ok = options || *m == method.as_str() || (head && *m == "GET");
        let tsegs: Vec<&str> = template.trim_end_matches('/').split('/').collect();
        method_ok
            && tsegs.len() == segs.len()
            && tsegs
                .iter()
                .zip(&segs)
                .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s)
    })
}

/// What the authentication middleware needs.
#[derive(Clone)]
pub(crate) struct AuthLayerState {
    pub auth: BasicAuth,
    pub routes: Arc<Vec<(&'static str, &'static str)>>,
}

/// Middleware: 401 for requests to an endpoint without credentials the JAAS entry accepts.
pub(crate) async fn require_basic_auth(
    axum::extract::State(state): axum::extract::State<AuthLayerState>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    let method = req.method();
    if is_internal(method, path) || !matches_a_route(method, path, &state.routes) {
        return next.run(req).await;
    }
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match state.auth.check(authorization) {
        Ok(true) => return next.run(req).await,
        Ok(false) => {}
        Err(message) => return RestError::new(StatusCode::INTERNAL_SERVER_ERROR, message).into_response(),
    }
    tracing::debug!(%method, path, "Request failed authentication");
    let mut resp = (StatusCode::UNAUTHORIZED, UNAUTHORIZED_BODY).into_response();
    // Jersey types the refusal as the matched resource produces: JSON, or text for OPTIONS.
    let content_type = if method == Method::OPTIONS {
        "text/plain"
    } else {
        "application/json"
    };
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The status page is opened by a person: let the browser ask for credentials.
    if path == "/ui" || path.starts_with("/ui/") {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Ferry\""),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user_pass: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(user_pass)
        )
    }

    #[test]
    fn jaas_files_parse_with_comments_and_quotes() {
        let text = r#"
            // the worker's REST API
            KafkaConnect {
              org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required
              file="/etc/kafka/connect.password" debug=true; /* trailing */
            };
            # another application
            Other { com.example.Module optional; };
        "#;
        let entries = parse_jaas(text).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].name, "KafkaConnect");
        let (class, flag, options) = &entries[0].modules[0];
        assert_eq!(class, PROPERTY_FILE_LOGIN_MODULE);
        assert_eq!(*flag, Flag::Required);
        assert_eq!(
            options,
            &vec![
                ("file".to_owned(), "/etc/kafka/connect.password".to_owned()),
                ("debug".to_owned(), "true".to_owned())
            ]
        );
        assert!(parse_jaas("KafkaConnect { x.Y mandatory; };")
            .unwrap_err()
            .contains("bad control flag"));
        assert!(parse_jaas("KafkaConnect { x.Y required file=\"a; };").is_err());
    }

    #[test]
    fn credentials_are_checked_like_property_file_login_module() {
        let auth = BasicAuth::from_users([("user".to_owned(), "pass:word".to_owned())]);
        assert!(auth.permits(Some(&basic("user:pass:word"))));
        assert!(auth.permits(Some(&format!("bAsIc {}", &basic("user:pass:word")[6..]))));
        assert!(!auth.permits(Some(&basic("user:wrong"))));
        assert!(!auth.permits(Some(&basic("other:pass:word"))));
        assert!(!auth.permits(Some(&basic(":pass:word"))));
        assert!(!auth.permits(Some("Bearer abc")));
        assert_eq!(
            auth.check(Some("Basic !!!")),
            Err("Illegal base64 character 21".to_owned())
        );
        assert_eq!(
            auth.check(Some("Basic  dXNlcg==")),
            Err("Illegal base64 character 20".to_owned())
        );
        assert_eq!(
            auth.check(Some("Basic dXNlcg\u{e9}")).unwrap_err(),
            "Illegal base64 character -3d"
        );
        assert!(!auth.permits(Some("Basic")));
        assert!(!auth.permits(None));
        // An empty credentials file lets everyone in, as in Connect.
        assert!(BasicAuth::from_users([]).permits(None));
    }

    #[test]
    fn jaas_flags_combine_like_login_context() {
        let m = |flag, user: &str| Module {
            flag,
            users: [(user.to_owned(), "p".to_owned())].into_iter().collect(),
        };
        let auth = BasicAuth {
            modules: Arc::new(vec![m(Flag::Sufficient, "a"), m(Flag::Sufficient, "b")]),
        };
        assert!(auth.permits(Some(&basic("a:p"))));
        assert!(auth.permits(Some(&basic("b:p"))));
        assert!(!auth.permits(Some(&basic("c:p"))));
        let auth = BasicAuth {
            modules: Arc::new(vec![m(Flag::Required, "a"), m(Flag::Optional, "b")]),
        };
        assert!(auth.permits(Some(&basic("a:p"))));
        assert!(!auth.permits(Some(&basic("b:p"))));
    }

    #[test]
    fn internal_endpoints_and_unmatched_paths_skip_authentication() {
        assert!(is_internal(&Method::POST, "/connectors/c1/tasks"));
        assert!(is_internal(&Method::POST, "/connectors/c1/tasks/"));
        assert!(is_internal(&Method::PUT, "/connectors/c1/fence"));
        assert!(!is_internal(&Method::GET, "/connectors/c1/tasks"));
        assert!(!is_internal(&Method::POST, "/connectors/c1/tasks/0/restart"));
        let routes = [("GET", "/connectors/{connector}/status"), ("GET", "/ui")];
        assert!(matches_a_route(&Method::GET, "/connectors/x/status", &routes));
        assert!(matches_a_route(&Method::HEAD, "/ui", &routes));
        assert!(!matches_a_route(&Method::GET, "/connectors//status", &routes));
        assert!(!matches_a_route(&Method::POST, "/connectors/x/status", &routes));
        assert!(matches_a_route(&Method::OPTIONS, "/connectors/x/status", &routes));
        assert!(!matches_a_route(&Method::GET, "/nowhere", &routes));
    }
}
