//! Real Apache Kafka brokers for kwire's tests, benchmarks and demo.
//!
//! kwire is checked against the real thing, not a mock: this crate fetches Apache Kafka
//! 4.4.0 from Maven Central (once, into a user cache) and runs a single-node KRaft broker
//! on free `127.0.0.1` ports, with no Docker. Kafka's own tools, run from the same jars,
//! create topics and read back what a producer wrote, as witnesses independent of kwire.
//!
//! Layers, bottom up:
//!
//! * [`kafka_jars`] — Maven download and cache (`fetch.rs`);
//! * [`Broker`] — one broker JVM under a supervisor that kills it when this process ends
//!   (`broker.rs`, `process.rs`), ready once raw-bytes ApiVersions and Metadata probes
//!   succeed (`probe.rs`);
//! * [`Cluster`] and [`shared`] — what tests use: topic creation with `TopicCommand`
//!   (`tools.rs`) and reading back with the console consumer (`consume.rs`).
//!
//! ```no_run
//! use std::time::Duration;
//!
//! let cluster = kwire_testkit::shared();
//! let topic = kwire_testkit::unique_topic("orders");
//! cluster.create_topic(&topic, 3)?;
//! // ... produce to cluster.bootstrap() with the client under test ...
//! let records = cluster.consume(&topic, 10, Duration::from_secs(30))?;
//! # Ok::<(), kwire_testkit::TestkitError>(())
//! ```
//!
//! Requirements: Java 17+ and (for the first download) Maven on `PATH`. Set
//! `KWIRE_BOOTSTRAP=host:port` to run tests against an existing cluster instead, and
//! `KWIRE_KAFKA_CACHE` to choose where the jars are kept.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod broker;
mod cluster;
mod consume;
mod dataset;
mod error;
mod fetch;
mod jvm;
mod probe;
mod process;
mod tools;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub use broker::Broker;
pub use cluster::{shared, Cluster, BOOTSTRAP_ENV};
pub use consume::ConsumedRecord;
pub use dataset::{webhook_examples, WEBHOOK_EXAMPLES_PACKAGE};
pub use error::TestkitError;
pub use fetch::kafka_jars;

/// The Apache Kafka release this crate runs.
pub const KAFKA_VERSION: &str = "4.4.0";

/// A topic name unique within this process and run: `"{prefix}-{pid}-{counter}-{nanos}"`.
///
/// Tests sharing one broker each use their own topic, so they can run in parallel and in
/// any order. `prefix` should use only `[a-zA-Z0-9._-]`, the characters Kafka allows.
pub fn unique_topic(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{prefix}-{}-{counter}-{nanos}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_topics_differ_and_are_legal_topic_names() {
        let a = unique_topic("t");
        let b = unique_topic("t");
        assert_ne!(a, b);
        assert!(a.len() < 249);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_'));
    }
}
