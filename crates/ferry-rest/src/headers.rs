//! `response.http.headers.config`: comma-separated rules `[action] [name]:[value]`
//! (actions `set`, `add`, `setDate`, `addDate`; a rule may be double-quoted when it
//! holds a comma), validated with Connect's messages and applied to every response
//! of the main listeners, as Jetty's `HeaderFilter` does in Connect.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::server_config::{ServerConfigError, RESPONSE_HTTP_HEADERS_CONFIG};

/// What a rule does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Replace the header.
    Set,
    /// Add a value.
    Add,
    /// Replace with the date the value (milliseconds) from now.
    SetDate,
    /// Add the date the value (milliseconds) from now.
    AddDate,
}

/// One header rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderRule {
    /// The action.
    pub action: Action,
    /// Header name.
    pub name: HeaderName,
    /// Value (for the date actions, milliseconds from now).
    pub value: String,
}

fn invalid(value: &str, reason: String) -> ServerConfigError {
    ServerConfigError::invalid(RESPONSE_HTTP_HEADERS_CONFIG, value, reason)
}

/// Splits on commas outside double quotes, trimming each part and removing the quotes.
fn csv_split(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur).trim().to_owned()),
            c => cur.push(c),
        }
    }
    out.push(cur.trim().to_owned());
    out.retain(|p| !p.is_empty());
    out
}

/// Parses and validates the setting.
pub fn parse_rules(config: &str) -> Result<Vec<HeaderRule>, ServerConfigError> {
    if config.trim().is_empty() {
        return Ok(Vec::new());
    }
    csv_split(config)
        .iter()
        .map(|rule| parse_rule(config, rule))
        .collect()
}

fn parse_rule(config: &str, rule: &str) -> Result<HeaderRule, ServerConfigError> {
    let mut tokens = rule.trim().splitn(2, char::is_whitespace);
    let (action, header) = match (tokens.next(), tokens.next()) {
        (Some(a), Some(h)) if !h.trim().is_empty() => (a.trim(), h.trim()),
        _ => {
            return Err(invalid(
                config,
                format!(
                    "Invalid format of header config '{rule}'. Expected: '[action] [header name]:[header value]'"
                ),
            ));
        }
    };
    let action = match action.to_ascii_lowercase().as_str() {
        "set" => Action::Set,
        "add" => Action::Add,
        "setdate" => Action::SetDate,
        "adddate" => Action::AddDate,
        _ => {
            return Err(invalid(
                config,
                format!(
                    "Invalid header config action: '{action}'. Expected one of [set, add, setDate, addDate]"
                ),
            ));
        }
    };
    let parts: Vec<&str> = header.split(':').collect();
    if parts.len() != 2 {
        return Err(invalid(
            config,
            format!(
                "Invalid format of header name and header value pair '{header}'. Expected: '[header name]:[header value]'"
            ),
        ));
    }
    let (name, value) = (parts[0].trim(), parts[1].trim());
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(invalid(
            config,
            format!("Invalid header name '{name}'. The '[header name]' cannot contain whitespace"),
        ));
    }
    let name = HeaderName::try_from(name)
        .map_err(|e| invalid(config, format!("Invalid header name '{name}': {e}")))?;
    if matches!(action, Action::SetDate | Action::AddDate) && value.parse::<i64>().is_err() {
        return Err(invalid(
            config,
            format!("Invalid header config '{rule}': a date rule's value is milliseconds from now"),
        ));
    }
    if HeaderValue::from_str(value).is_err() {
        return Err(invalid(config, format!("Invalid header value '{value}'")));
    }
    Ok(HeaderRule {
        action,
        name,
        value: value.to_owned(),
    })
}

fn date_value(offset_ms: &str) -> Option<HeaderValue> {
    let ms: i64 = offset_ms.parse().ok()?;
    let now = SystemTime::now();
    let at = if ms >= 0 {
        now + Duration::from_millis(ms as u64)
    } else {
        now - Duration::from_millis(ms.unsigned_abs())
    };
    HeaderValue::from_str(&httpdate::fmt_http_date(at)).ok()
}

/// Middleware applying the rules to each response.
pub(crate) async fn apply(
    axum::extract::State(rules): axum::extract::State<Arc<Vec<HeaderRule>>>,
    req: Request,
    next: Next,
) -> Response {
    let mut resp = next.run(req).await;
    let headers = resp.headers_mut();
    for rule in rules.iter() {
        let value = match rule.action {
            Action::Set | Action::Add => HeaderValue::from_str(&rule.value).ok(),
            Action::SetDate | Action::AddDate => date_value(&rule.value),
        };
        let Some(value) = value else { continue };
        match rule.action {
            Action::Set | Action::SetDate => {
                headers.insert(rule.name.clone(), value);
            }
            Action::Add | Action::AddDate => {
                headers.append(rule.name.clone(), value);
            }
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_with_quotes_and_every_action() {
        let rules = parse_rules(
            "set X-Frame-Options: DENY, \"add Cache-Control: no-cache, no-store\", setDate Expires: 31540000000, addDate Last-Modified: 0",
        )
        .unwrap();
        assert_eq!(rules.len(), 4);
        assert_eq!(rules[0].action, Action::Set);
        assert_eq!(rules[0].name.as_str(), "x-frame-options");
        assert_eq!(rules[1].value, "no-cache, no-store");
        assert_eq!(rules[2].action, Action::SetDate);
        assert_eq!(rules[3].action, Action::AddDate);
        assert!(parse_rules("  ").unwrap().is_empty());
    }

    #[test]
    fn bad_rules_are_refused_with_connects_messages() {
        let err = |c: &str| parse_rules(c).unwrap_err().to_string();
        assert!(err("set").contains(
            "Invalid format of header config 'set'. Expected: '[action] [header name]:[header value]'"
        ));
        assert!(err("put X: 1")
            .contains("Invalid header config action: 'put'. Expected one of [set, add, setDate, addDate]"));
        assert!(err("set X-A 1").contains("Invalid format of header name and header value pair 'X-A 1'"));
        assert!(err("set X: a: b").contains("Invalid format of header name and header value pair"));
        assert!(
            err("set X Y: 1").contains("Invalid format of header name and header value pair")
                || err("set X Y: 1").contains("cannot contain whitespace")
        );
        assert!(err("setDate Expires: soon").contains("milliseconds"));
        assert!(parse_rules("set X: 1").is_ok());
        assert!(err("set X-A: 1, add")
            .starts_with("Invalid value set X-A: 1, add for configuration response.http.headers.config"));
    }

    #[test]
    fn dates_are_http_dates() {
        let v = date_value("0").unwrap();
        assert!(v.to_str().unwrap().ends_with(" GMT"), "{v:?}");
        assert!(date_value("x").is_none());
    }
}
