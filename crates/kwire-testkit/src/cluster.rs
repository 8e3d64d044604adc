//! The cluster a test talks to: a broker of our own, or one named by `KWIRE_BOOTSTRAP`.

use std::sync::OnceLock;
use std::time::Duration;

use crate::consume::{self, ConsumedRecord};
use crate::{fetch, tools, Broker, TestkitError};

/// Environment variable naming an existing cluster (`host:port`) to test against.
pub const BOOTSTRAP_ENV: &str = "KWIRE_BOOTSTRAP";

/// A cluster to test against: a broker owned by this value, or an external address.
#[derive(Debug)]
pub struct Cluster {
    target: Target,
}

#[derive(Debug)]
enum Target {
    Owned(Broker),
    External(String),
}

impl Cluster {
    /// Starts a new single-node broker owned by the returned value (see [`Broker::start`]).
    ///
    /// # Errors
    ///
    /// As for [`Broker::start`].
    pub fn start() -> Result<Cluster, TestkitError> {
        Broker::start().map(|broker| Cluster {
            target: Target::Owned(broker),
        })
    }

    /// An existing cluster reachable at `bootstrap` (`host:port`).
    ///
    /// Nothing is checked here. The Kafka jars are still needed, for the tools that
    /// [`Cluster::create_topic`] and [`Cluster::consume`] run, and are fetched on first use.
    pub fn external(bootstrap: &str) -> Cluster {
        Cluster {
            target: Target::External(bootstrap.to_owned()),
        }
    }

    /// The address clients bootstrap from.
    pub fn bootstrap(&self) -> &str {
        match &self.target {
            Target::Owned(broker) => broker.bootstrap(),
            Target::External(bootstrap) => bootstrap,
        }
    }

    /// The broker this cluster owns, or `None` for an external cluster.
    pub fn broker(&self) -> Option<&Broker> {
        match &self.target {
            Target::Owned(broker) => Some(broker),
            Target::External(_) => None,
        }
    }

    /// Creates `topic` with `partitions` partitions and replication factor 1.
    ///
    /// Uses Kafka's own TopicCommand, then waits (up to 30 s) until a Metadata request
    /// shows every partition with a leader, so producing right away finds the leaders.
    ///
    /// # Errors
    ///
    /// [`TestkitError::ToolFailed`] with TopicCommand's output (for example when the topic
    /// already exists), [`TestkitError::Timeout`] after 60 s, or
    /// [`TestkitError::TopicNotReady`].
    pub fn create_topic(&self, topic: &str, partitions: u32) -> Result<(), TestkitError> {
        self.create_topic_with_config(topic, partitions, &[])
    }

    /// Like [`Cluster::create_topic`], with topic configs such as
    /// `("max.message.bytes", "2048")`, passed as `--config key=value`.
    ///
    /// # Errors
    ///
    /// As for [`Cluster::create_topic`]; an unknown or invalid config makes TopicCommand fail.
    pub fn create_topic_with_config(
        &self,
        topic: &str,
        partitions: u32,
        configs: &[(&str, &str)],
    ) -> Result<(), TestkitError> {
        let home = fetch::kafka_home()?;
        tools::create_topic(&home, self.bootstrap(), topic, partitions, configs)
    }

    /// Reads `topic` from the beginning with Kafka's own console consumer until `expected`
    /// records have arrived or `timeout` passes.
    ///
    /// Returns the records sorted by (partition, offset), with keys, values and headers byte
    /// for byte and null told apart from empty. The timeout covers the consumer JVM's start
    /// and its group join (about 3 s on a small machine). If it passes first, the records
    /// seen so far are returned, so compare the length with what you expect; more than
    /// `expected` may be returned when they arrived together. `expected == 0` returns at once.
    ///
    /// # Limitations
    ///
    /// Records are read from the console consumer's text output, using control characters
    /// as separators. Keys and header keys must not contain the bytes 0x1B, 0x1D or 0x1F,
    /// header keys no colon, and values not the bytes 0x1E then `\n`. Short UTF-8 keys and
    /// single-line JSON values always qualify.
    ///
    /// # Errors
    ///
    /// [`TestkitError::ToolFailed`] if the consumer exits with an error,
    /// [`TestkitError::UnexpectedOutput`] if a record cannot be parsed.
    pub fn consume(
        &self,
        topic: &str,
        expected: usize,
        timeout: Duration,
    ) -> Result<Vec<ConsumedRecord>, TestkitError> {
        let home = fetch::kafka_home()?;
        consume::consume(&home, self.bootstrap(), topic, expected, timeout)
    }
}

/// The cluster shared by all tests of one test binary.
///
/// If `KWIRE_BOOTSTRAP=host:port` is set, that existing cluster; otherwise a broker
/// started on first use and kept until the test binary exits (it is never dropped, but
/// its JVM dies with the process; see [`Broker`]).
///
/// # Panics
///
/// With the [`TestkitError`]'s sentence if the broker cannot start. The failure is
/// remembered, so later tests fail at once with the same message instead of retrying.
pub fn shared() -> &'static Cluster {
    static SHARED: OnceLock<Result<Cluster, String>> = OnceLock::new();
    let cluster = SHARED.get_or_init(|| match std::env::var(BOOTSTRAP_ENV) {
        Ok(bootstrap) if !bootstrap.trim().is_empty() => Ok(Cluster::external(bootstrap.trim())),
        _ => Cluster::start().map_err(|e| e.to_string()),
    });
    match cluster {
        Ok(cluster) => cluster,
        Err(message) => panic!("{message}"),
    }
}
