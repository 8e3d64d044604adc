//! Errors of the producer.

use std::sync::Arc;
use std::time::Duration;

use kwire_codec::{EncodeError, ErrorCode};
use kwire_connection::ConnectionError;

/// Why a record was not delivered.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ProducerError {
    /// Talking to the cluster failed (and retries, if any, did not help).
    #[error("{0}")]
    Connection(Arc<ConnectionError>),
    /// The value could not be serialized as JSON.
    #[error("could not serialize the value as JSON: {0}")]
    Serialize(Arc<serde_json::Error>),
    /// The record alone is larger than a batch may be.
    #[error("record of {size} bytes is larger than the maximum request size of {max} bytes")]
    RecordTooLarge {
        /// The record's encoded size, approximately.
        size: usize,
        /// The limit (`max_request_size`).
        max: usize,
    },
    /// The record named a partition the topic does not have.
    #[error(
        "topic `{topic}` has {partitions} partitions, so partition {partition} does not exist"
    )]
    UnknownPartition {
        /// The topic.
        topic: String,
        /// The partition asked for.
        partition: i32,
        /// How many the topic has.
        partitions: usize,
    },
    /// The broker refused the batch holding the record.
    #[error("broker refused the record for {topic}/{partition}: {error}{}", message_suffix(.message))]
    Broker {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The error code.
        error: ErrorCode,
        /// The broker's message, when it sent one.
        message: Option<String>,
    },
    /// Retries ran out, or the delivery timeout passed, before the record was acknowledged.
    #[error("record for {topic}/{partition} not delivered after {attempts} attempts in {elapsed:?}: {last}")]
    RetriesExhausted {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// Attempts made.
        attempts: u32,
        /// Time spent.
        elapsed: Duration,
        /// The last failure.
        last: Box<ProducerError>,
    },
    /// A record could not be encoded.
    #[error("could not encode the record: {0}")]
    Encode(#[from] EncodeError),
    /// The producer was shut down before the record was sent.
    #[error("the producer is shut down")]
    Closed,
}

fn message_suffix(message: &Option<String>) -> String {
    message
        .as_ref()
        .map(|m| format!(" ({m})"))
        .unwrap_or_default()
}

impl From<ConnectionError> for ProducerError {
    fn from(e: ConnectionError) -> Self {
        ProducerError::Connection(Arc::new(e))
    }
}

impl ProducerError {
    /// Whether sending the same batch again may succeed.
    pub fn is_retriable(&self) -> bool {
        match self {
            ProducerError::Connection(e) => e.is_retriable(),
            ProducerError::Broker { error, .. } => error.is_retriable(),
            _ => false,
        }
    }
}
