//! Errors of the connection layer.

use std::time::Duration;

use kwire_codec::{DecodeError, EncodeError, ErrorCode};

/// What went wrong talking to a broker.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The TCP connection could not be opened.
    #[error("could not connect to broker at {addr}: {source}")]
    Connect {
        /// The address tried.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The TCP connection did not open in time.
    #[error("could not connect to broker at {addr}: no answer within {after:?}")]
    ConnectTimeout {
        /// The address tried.
        addr: String,
        /// How long we waited.
        after: Duration,
    },
    /// None of the bootstrap addresses answered.
    #[error("no bootstrap broker is reachable ({addrs}); last error: {last}")]
    NoBrokerReachable {
        /// The addresses tried, comma-separated.
        addrs: String,
        /// The last failure.
        last: Box<ConnectionError>,
    },
    /// A bootstrap address could not be parsed or resolved.
    #[error("invalid broker address `{addr}`: {reason}")]
    InvalidAddress {
        /// The address as given.
        addr: String,
        /// Why it is invalid.
        reason: String,
    },
    /// Reading or writing the socket failed.
    #[error("I/O error talking to broker at {addr}: {source}")]
    Io {
        /// The broker.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The connection closed (by the broker, by an error, or by us) before the response came.
    #[error("connection to broker at {addr} closed{}", reason_suffix(.reason))]
    Closed {
        /// The broker.
        addr: String,
        /// What closed it, when known.
        reason: Option<String>,
    },
    /// No response arrived within the request timeout.
    #[error("{api} request to broker at {addr} got no response within {after:?}")]
    Timeout {
        /// The request's API.
        api: &'static str,
        /// The broker.
        addr: String,
        /// How long we waited.
        after: Duration,
    },
    /// A request could not be encoded.
    #[error("could not encode request: {0}")]
    Encode(#[from] EncodeError),
    /// A response could not be decoded.
    #[error("malformed response from broker at {addr}: {source}")]
    Decode {
        /// The broker.
        addr: String,
        /// What was wrong.
        #[source]
        source: DecodeError,
    },
    /// A response carried a correlation id other than the one expected next.
    #[error("broker at {addr} answered correlation id {got}, expected {expected}")]
    CorrelationMismatch {
        /// The broker.
        addr: String,
        /// The id expected.
        expected: i32,
        /// The id received.
        got: i32,
    },
    /// The broker and kwire share no version of an API.
    #[error("broker at {addr} {} {api}, which kwire speaks at v{}-v{}", broker_range(.broker), .ours.0, .ours.1)]
    Unsupported {
        /// The broker.
        addr: String,
        /// The API.
        api: &'static str,
        /// kwire's range.
        ours: (i16, i16),
        /// The broker's range, or `None` if it does not list the API.
        broker: Option<(i16, i16)>,
    },
    /// A whole-response error code from the broker.
    #[error("broker at {addr} answered {api} with error {error}")]
    Broker {
        /// The broker.
        addr: String,
        /// The API.
        api: &'static str,
        /// The error.
        error: ErrorCode,
    },
    /// The topic does not exist (or is not visible to this client).
    #[error("topic `{topic}` does not exist")]
    UnknownTopic {
        /// The topic.
        topic: String,
    },
    /// Metadata for the topic carried an error.
    #[error("metadata for topic `{topic}` says {error}")]
    Topic {
        /// The topic.
        topic: String,
        /// The error.
        error: ErrorCode,
    },
    /// Metadata names a broker id that the broker list does not contain.
    #[error("broker {node_id} is not in the cluster metadata")]
    UnknownBroker {
        /// The broker id.
        node_id: i32,
    },
}

fn broker_range(broker: &Option<(i16, i16)>) -> String {
    match broker {
        Some((min, max)) => format!("serves only v{min}-v{max} of"),
        None => "does not serve".to_owned(),
    }
}

fn reason_suffix(reason: &Option<String>) -> String {
    reason
        .as_ref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default()
}

impl ConnectionError {
    /// Whether trying again (possibly on a fresh connection) may succeed.
    pub fn is_retriable(&self) -> bool {
        match self {
            ConnectionError::Connect { .. }
            | ConnectionError::ConnectTimeout { .. }
            | ConnectionError::NoBrokerReachable { .. }
            | ConnectionError::Io { .. }
            | ConnectionError::Closed { .. }
            | ConnectionError::Timeout { .. } => true,
            ConnectionError::Broker { error, .. } | ConnectionError::Topic { error, .. } => {
                error.is_retriable()
            }
            _ => false,
        }
    }
}
