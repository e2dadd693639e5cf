//! Errors of the PostgreSQL connector.

use ferry_core::{ConnectError, ErrorKind};
use tokio_postgres::error::SqlState;

/// What went wrong while talking to PostgreSQL or decoding its data.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The server or network failed in a way a retry may fix.
    #[error("{0}")]
    Transient(String),
    /// A problem the user must fix (permissions, configuration, server settings).
    #[error("{0}")]
    Setup(String),
    /// The replication stream carried something we could not decode.
    #[error("pgoutput protocol error: {0}")]
    Protocol(String),
    /// A value could not be converted.
    #[error("{0}")]
    Data(String),
    /// An SQL error from tokio-postgres.
    #[error("{context}: {source}")]
    Sql {
        /// What we were doing.
        context: String,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },
}

impl PgError {
    /// Wraps a tokio-postgres error with context.
    pub fn sql(context: impl Into<String>, source: tokio_postgres::Error) -> Self {
        PgError::Sql {
            context: context.into(),
            source,
        }
    }

    /// True when retrying (reconnecting) may help.
    pub fn is_transient(&self) -> bool {
        match self {
            PgError::Transient(_) => true,
            // A server error counts by its SQLSTATE: only a server going away or ending
            // the session (57P0x, ...) is worth a reconnect.
            PgError::Sql { source, .. } => {
                source.is_closed() || matches!(ServerError::of(source), None | Some(ServerError::Unavailable))
            }
            _ => false,
        }
    }
}

impl From<PgError> for ConnectError {
    fn from(e: PgError) -> Self {
        let kind = match &e {
            _ if e.is_transient() => ErrorKind::Retriable,
            PgError::Setup(_) => ErrorKind::Config,
            PgError::Data(_) => ErrorKind::Data,
            _ => ErrorKind::Fatal,
        };
        let msg = match &e {
            PgError::Sql { context, source } => match source.as_db_error() {
                Some(db) => format!("{context}: {} ({})", db.message(), db.code().code()),
                None => format!("{context}: {source}"),
            },
            other => other.to_string(),
        };
        ConnectError::new(kind, msg).with_source(e)
    }
}

/// What a server error means for the connector, decided by its SQLSTATE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerError {
    /// `55006` object_in_use: e.g. the replication slot is active for another process.
    InUse,
    /// `42704` undefined_object: e.g. the replication slot or publication does not exist.
    Undefined,
    /// `42501` insufficient_privilege: e.g. the role lacks the REPLICATION attribute.
    Privilege,
    /// `28000` invalid_authorization_specification: `pg_hba.conf` refused the connection
    /// (no matching entry, `hostssl`/`hostnossl`, a client certificate required or refused).
    Authorization,
    /// `55P03` lock_not_available: e.g. a snapshot's `LOCK TABLE` waited longer than
    /// `lock_timeout`.
    LockNotAvailable,
    /// The server is starting, stopping or ended the session (`57P01`–`57P05`; the
    /// session-ending `25P03`, `40001`, `40P01`): reconnecting may succeed.
    Unavailable,
    /// Anything else.
    Other,
}

impl ServerError {
    /// The class of SQLSTATE `code`.
    pub fn classify(code: &SqlState) -> ServerError {
        let is = |states: &[SqlState]| states.contains(code);
        if *code == SqlState::OBJECT_IN_USE {
            ServerError::InUse
        } else if *code == SqlState::UNDEFINED_OBJECT {
            ServerError::Undefined
        } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
            ServerError::Privilege
        } else if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
            ServerError::Authorization
        } else if *code == SqlState::LOCK_NOT_AVAILABLE {
            ServerError::LockNotAvailable
        } else if is(&[
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::DATABASE_DROPPED,
            SqlState::IDLE_SESSION_TIMEOUT,
            SqlState::IDLE_IN_TRANSACTION_SESSION_TIMEOUT,
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
        ]) {
            ServerError::Unavailable
        } else {
            ServerError::Other
        }
    }

    /// The class of a tokio-postgres error: `None` when it carries no SQLSTATE (I/O,
    /// a closed connection, a client-side failure).
    pub fn of(e: &tokio_postgres::Error) -> Option<ServerError> {
        e.as_db_error().map(|d| ServerError::classify(d.code()))
    }

    /// The class of a server error as pgwire-replication reports it. That library keeps
    /// only a formatted string (`"<message> (SQLSTATE <code>)"`), so the code is read
    /// back from its end; an error without one is [`ServerError::Other`].
    pub fn of_wire_message(msg: &str) -> ServerError {
        wire_sqlstate(msg).map_or(ServerError::Other, |code| {
            ServerError::classify(&SqlState::from_code(code))
        })
    }
}

/// The SQLSTATE at the end of a pgwire-replication server error string.
fn wire_sqlstate(msg: &str) -> Option<&str> {
    let code = msg.strip_suffix(')')?.rsplit_once("(SQLSTATE ")?.1;
    (code.len() == 5 && code.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(code)
}

/// The server's message of `e` (without its SQLSTATE), else the driver's text.
pub fn server_message(e: &tokio_postgres::Error) -> String {
    e.as_db_error()
        .map(|d| d.message().to_string())
        .unwrap_or_else(|| e.to_string())
}

/// Result alias.
pub type Result<T, E = PgError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_are_classified_by_sqlstate() {
        for (code, class) in [
            ("55006", ServerError::InUse),
            ("42704", ServerError::Undefined),
            ("42501", ServerError::Privilege),
            ("28000", ServerError::Authorization),
            ("55P03", ServerError::LockNotAvailable),
            ("57P01", ServerError::Unavailable),
            ("57P03", ServerError::Unavailable),
            ("57P05", ServerError::Unavailable),
            ("40001", ServerError::Unavailable),
            ("28P01", ServerError::Other),
            ("42P01", ServerError::Other),
            ("57014", ServerError::Other),
        ] {
            assert_eq!(ServerError::classify(&SqlState::from_code(code)), class, "{code}");
        }
    }

    #[test]
    fn the_sqlstate_of_a_wire_error_is_read_from_its_end_not_its_wording() {
        let in_use = "replication slot \"s\" is active for PID 42 (SQLSTATE 55006)";
        assert_eq!(ServerError::of_wire_message(in_use), ServerError::InUse);
        // The wording does not matter (servers translate it); the code does.
        let translated = "le slot de réplication « s » est actif pour le PID 42 (SQLSTATE 55006)";
        assert_eq!(ServerError::of_wire_message(translated), ServerError::InUse);
        let starting = "the database system is starting up (SQLSTATE 57P03)";
        assert_eq!(ServerError::of_wire_message(starting), ServerError::Unavailable);
        assert_eq!(
            ServerError::of_wire_message("replication slot \"s\" is active for PID 42"),
            ServerError::Other
        );
        assert_eq!(
            ServerError::of_wire_message("error (SQLSTATE 42501)"),
            ServerError::Privilege
        );
        assert_eq!(
            ServerError::of_wire_message("odd (SQLSTATE 1)"),
            ServerError::Other
        );
    }
}
