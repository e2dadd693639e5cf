//! Errors of the PostgreSQL connector.

use ferry_core::{ConnectError, ErrorKind};

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
            PgError::Sql { source, .. } => source.is_closed() || source.as_db_error().is_none(),
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

/// Result alias.
pub type Result<T, E = PgError> = std::result::Result<T, E>;
