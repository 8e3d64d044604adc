//! Tokio TCP sessions to Kafka brokers.
//!
//! - [`Connection`]: one session to one broker. It frames requests, assigns correlation ids,
//!   keeps a bounded window of requests in flight, matches responses in order, enforces
//!   timeouts, and negotiates API versions with ApiVersions when it opens.
//! - [`Cluster`]: bootstrap addresses, one connection per broker, and the metadata cache
//!   (brokers, topics, partitions, leaders), refreshed on demand.
//!
//! # Limitations
//!
//! - Plaintext only: no TLS and no SASL.
//! - One connection per broker; requests beyond the in-flight window wait for a slot.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cluster;
pub mod connection;
pub mod error;

pub use cluster::{BrokerMetadata, Cluster, ClusterConfig, PartitionMetadata, TopicMetadata};
pub use connection::{Connection, ConnectionConfig, ResponseFuture, WriteFuture};
pub use error::ConnectionError;
