//! The one error type of the test kit.
//!
//! Every message is a single sentence that says what went wrong and, where the fix is
//! outside this crate, what to install or set. Failures of the broker or of a Kafka tool
//! carry the tail of its output, because that is where the real reason is.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crate::KAFKA_VERSION;

/// What can go wrong while fetching, starting or using a test broker.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestkitError {
    /// No `java` executable on `PATH`.
    #[error(
        "Java 17 or newer is required to run the test broker, but `java` was not found on PATH; \
         install openjdk-17-jre-headless"
    )]
    JavaNotFound,

    /// `java` exists but is older than 17, or its version could not be read.
    #[error(
        "Java 17 or newer is required to run the test broker, but `{path}` reports version \
         {found:?}; install openjdk-17-jre-headless and put it first on PATH"
    )]
    JavaTooOld {
        /// The `java` that was run.
        path: PathBuf,
        /// The version string it printed (or its whole output if none was recognised).
        found: String,
    },

    /// No `mvn` executable on `PATH` and the Kafka jars are not cached yet.
    #[error(
        "Maven is required to fetch Apache Kafka {KAFKA_VERSION}, but `mvn` was not found on \
         PATH; install maven"
    )]
    MavenNotFound,

    /// No `npm` executable on `PATH` and the webhook dataset is not cached yet.
    #[error(
        "npm is required to fetch the webhook example dataset, but `npm` was not found on PATH; \
         install nodejs and npm"
    )]
    NpmNotFound,

    /// Neither `KWIRE_KAFKA_CACHE`, `XDG_CACHE_HOME` nor `HOME` is set.
    #[error(
        "Cannot choose a cache directory for the Kafka jars because none of KWIRE_KAFKA_CACHE, \
         XDG_CACHE_HOME and HOME is set; set KWIRE_KAFKA_CACHE to a writable directory"
    )]
    NoCacheDir,

    /// A file system or process operation failed.
    #[error("Could not {action}: {source}")]
    Io {
        /// What was being done, e.g. "create /tmp/x".
        action: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// Maven ran but did not produce the jars.
    #[error(
        "Maven could not fetch Apache Kafka {KAFKA_VERSION} into {dir} ({status}); its output \
         ends with:\n{output}"
    )]
    MavenFailed {
        /// Where the jars were to go.
        dir: PathBuf,
        /// How Maven ended.
        status: String,
        /// The last lines Maven printed.
        output: String,
    },

    /// An external process did not finish in time and was killed.
    #[error(
        "{what} did not finish within {timeout:?} and was killed; its output ends with:\n{output}"
    )]
    Timeout {
        /// The process, e.g. "Kafka's TopicCommand".
        what: String,
        /// How long it was given.
        timeout: Duration,
        /// The last lines it printed.
        output: String,
    },

    /// A Kafka command line tool exited with an error.
    #[error("{tool} failed ({status}); its output ends with:\n{output}")]
    ToolFailed {
        /// The tool, e.g. "Kafka's TopicCommand".
        tool: String,
        /// How it ended.
        status: String,
        /// The last lines it printed.
        output: String,
    },

    /// A Kafka tool printed something this crate cannot parse.
    #[error("{tool} printed a line that could not be parsed ({reason}): {line:?}")]
    UnexpectedOutput {
        /// The tool, e.g. "Kafka's ConsoleConsumer".
        tool: String,
        /// What was wrong with the line.
        reason: String,
        /// The offending output, lossily decoded.
        line: String,
    },

    /// The broker JVM exited while starting.
    #[error(
        "The Kafka broker exited during startup ({status}); the last lines of {log} are:\n{tail}"
    )]
    BrokerExited {
        /// How the JVM ended.
        status: String,
        /// The broker's log file.
        log: PathBuf,
        /// Its last lines.
        tail: String,
    },

    /// The broker did not answer ApiVersions and Metadata in time.
    #[error(
        "The Kafka broker did not become ready within {timeout:?} (last probe: {last_probe}); \
         the last lines of {log} are:\n{tail}"
    )]
    BrokerStartTimeout {
        /// How long it was given.
        timeout: Duration,
        /// Why the last readiness probe failed.
        last_probe: String,
        /// The broker's log file.
        log: PathBuf,
        /// Its last lines.
        tail: String,
    },

    /// A created topic did not show all its partitions with a leader in time.
    #[error(
        "Topic {topic:?} was created but did not show {partitions} partitions with leaders \
         within {timeout:?} (last probe: {last_probe})"
    )]
    TopicNotReady {
        /// The topic.
        topic: String,
        /// How many partitions were asked for.
        partitions: u32,
        /// How long it was given.
        timeout: Duration,
        /// What the last Metadata probe saw.
        last_probe: String,
    },
}

impl TestkitError {
    /// Wraps an I/O error with a short description of what was being done.
    pub(crate) fn io(action: impl Into<String>, source: io::Error) -> Self {
        TestkitError::Io {
            action: action.into(),
            source,
        }
    }
}
