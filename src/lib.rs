//! kwire: a Kafka producer written from the wire protocol up.
//!
//! This facade re-exports the three layers:
//!
//! - [`codec`]: Kafka's binary protocol (headers, ApiVersions, Metadata, Produce,
//!   RecordBatch v2). Bytes in, bytes out; no I/O.
//! - [`connection`]: tokio TCP sessions to brokers, version negotiation and the
//!   cluster metadata cache.
//! - [`producer`]: the shared [`Producer`], its partitioners and the JSON API.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use kwire_codec as codec;
pub use kwire_connection as connection;
pub use kwire_producer as producer;

pub use kwire_producer::{Delivery, Partitioner, Producer, ProducerConfig, ProducerError, Record};
