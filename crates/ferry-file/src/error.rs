//! Errors of the file connectors.

use std::io;

use ferry_core::ConnectError;

/// What can go wrong while reading or writing a file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The source file exists but could not be opened.
    #[error("Error while trying to open file {path}")]
    Open {
        /// File name.
        path: String,
        /// Cause.
        #[source]
        source: io::Error,
    },
    /// Seeking to the stored offset failed.
    #[error("Error while trying to seek to offset {offset} in file {path}")]
    Seek {
        /// File name.
        path: String,
        /// Stored offset.
        offset: i64,
        /// Cause.
        #[source]
        source: io::Error,
    },
    /// Reading the input failed.
    #[error("Error while reading from {name}")]
    Read {
        /// File name or `stdin`.
        name: String,
        /// Cause.
        #[source]
        source: io::Error,
    },
    /// The stored offset's `position` is not an integer.
    #[error("Offset position is the incorrect type")]
    OffsetType,
    /// The sink file could not be opened or created.
    #[error("Couldn't find or create file '{path}' for FileStreamSinkTask")]
    CreateSink {
        /// File name.
        path: String,
        /// Cause.
        #[source]
        source: io::Error,
    },
    /// Writing or syncing the output failed.
    #[error("Error while writing to {name}")]
    Write {
        /// File name or `stdout`.
        name: String,
        /// Cause.
        #[source]
        source: io::Error,
    },
    /// A task method was called before `start`.
    #[error("{0} was called before start")]
    NotStarted(&'static str),
}

impl From<FileError> for ConnectError {
    fn from(e: FileError) -> Self {
        let message = e.to_string();
        let err = match e {
            // Upstream keeps polling after read failures; let the runtime retry.
            FileError::Read { .. } => ConnectError::retriable(message),
            _ => ConnectError::fatal(message),
        };
        err.with_source(e)
    }
}
