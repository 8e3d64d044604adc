//! The kwire producer: a [`Producer`] created once and shared, a pluggable
//! [`Partitioner`] (default [`LeastBytes`]), and a JSON API.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kwire_producer::ProducerError> {
//! use kwire_producer::{Producer, ProducerConfig};
//!
//! let producer = Producer::connect(ProducerConfig::new(["127.0.0.1:9092"])).await?;
//! let delivery = producer.send_json("events", &serde_json::json!({"id": 1})).await?;
//! println!("landed in partition {} at offset {}", delivery.partition, delivery.offset);
//! # Ok(()) }
//! ```
//!
//! A record passes through: serialize → pick a partition (the partitioner sees the topic's
//! partition count) → append to that partition's open batch → when the batch is full or has
//! lingered, group ready batches by leader into one Produce request → send → resolve each
//! record's delivery with `(partition, offset, timestamp)`, retrying what is retriable.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod error;
pub mod partitioner;
pub mod producer;
pub mod record;

pub use config::{Acks, ProducerConfig};
pub use error::ProducerError;
pub use kwire_codec::compression::Compression;
pub use partitioner::{LeastBytes, Partitioner, RoundRobin};
pub use producer::{DeliveryFuture, Producer};
pub use record::{Delivery, Record, RecordHeader};
