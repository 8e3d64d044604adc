//! Producer settings.

use std::time::Duration;

use kwire_codec::compression::Compression;

/// How many replicas must have a record before the broker acknowledges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acks {
    /// No acknowledgement: the broker sends no response and offsets are unknown (-1). A
    /// record counts as delivered once its request is written to the socket; a broker that
    /// then refuses it (or dies) loses it without anyone knowing, as in every Kafka client.
    None,
    /// The leader has written the record.
    Leader,
    /// Every in-sync replica has the record (Kafka's `acks=all`, the default).
    All,
}

impl Acks {
    /// The value on the wire (0, 1 or -1).
    pub fn code(self) -> i16 {
        match self {
            Acks::None => 0,
            Acks::Leader => 1,
            Acks::All => -1,
        }
    }
}

/// How a [`Producer`](crate::Producer) behaves. Start from `ProducerConfig::new(bootstrap)`
/// and change what you need.
#[derive(Debug, Clone)]
pub struct ProducerConfig {
    /// `host:port` of one or more brokers to learn the cluster from.
    pub bootstrap: Vec<String>,
    /// Sent in every request header.
    pub client_id: String,
    /// Acknowledgement level.
    pub acks: Acks,
    /// How long a batch may wait for more records before it is sent.
    pub linger: Duration,
    /// A batch is sent once it reaches this many bytes.
    pub batch_size: usize,
    /// The largest batch (and so the largest record) sent; Kafka's broker default limit is
    /// 1 MiB (`message.max.bytes`).
    pub max_request_size: usize,
    /// Bytes of record data that may wait to be acknowledged; `send` waits for room beyond it.
    pub buffer_memory: usize,
    /// How many times a batch is resent after a retriable error.
    pub retries: u32,
    /// Pause before resending.
    pub retry_backoff: Duration,
    /// Upper bound on the time from `send` to success or failure.
    pub delivery_timeout: Duration,
    /// How long a single request may take.
    pub request_timeout: Duration,
    /// How long opening a connection may take.
    pub connect_timeout: Duration,
    /// Requests in flight per broker connection.
    pub max_in_flight: usize,
    /// Whether sending to a missing topic may create it (broker defaults apply).
    pub allow_auto_topic_creation: bool,
    /// How each batch's records are compressed (Kafka's `compression.type`). A codec other
    /// than [`Compression::None`] needs this crate's cargo feature of the same name (`gzip`,
    /// `snappy`, `lz4`, `zstd`, or `compression` for all); without it
    /// [`Producer::connect`](crate::Producer::connect) fails. `batch_size` and
    /// `max_request_size` count the records before compression.
    pub compression: Compression,
}

impl ProducerConfig {
    /// Defaults: acks=all, 5 ms linger, 64 KiB batches, 1 MiB requests, 32 MiB buffer,
    /// 5 retries 100 ms apart within 2 minutes, 30 s request timeout, 5 requests in flight,
    /// no topic auto-creation, no compression.
    pub fn new<S: Into<String>>(bootstrap: impl IntoIterator<Item = S>) -> Self {
        ProducerConfig {
            bootstrap: bootstrap.into_iter().map(Into::into).collect(),
            client_id: "kwire".to_owned(),
            acks: Acks::All,
            linger: Duration::from_millis(5),
            batch_size: 64 * 1024,
            max_request_size: 1024 * 1024,
            buffer_memory: 32 * 1024 * 1024,
            retries: 5,
            retry_backoff: Duration::from_millis(100),
            delivery_timeout: Duration::from_secs(120),
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_in_flight: 5,
            allow_auto_topic_creation: false,
            compression: Compression::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_is_off_by_default() {
        assert_eq!(ProducerConfig::new(["x:1"]).compression, Compression::None);
    }

    #[cfg(not(feature = "zstd"))]
    #[tokio::test]
    async fn a_codec_this_build_lacks_fails_connect_before_any_network() {
        use crate::{Producer, ProducerError};
        use kwire_codec::EncodeError;

        let mut config = ProducerConfig::new(["127.0.0.1:1"]);
        config.compression = Compression::Zstd;
        let err = Producer::connect(config).await.unwrap_err();
        assert!(
            matches!(
                err,
                ProducerError::Encode(EncodeError::CompressionNotEnabled("zstd"))
            ),
            "{err}"
        );
    }
}
