//! One single-node Apache Kafka broker (KRaft, combined broker + controller) on loopback.
//!
//! Configuration follows Kafka 4.x's own single-node example: a dynamic quorum
//! (`controller.quorum.bootstrap.servers`) formatted with `StorageTool format --standalone`.
//! Replication factors of the internal topics are 1 so that transactions, consumer groups
//! and share groups work with one node.

use std::fmt::Write as _;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::fetch::{self, KafkaHome};
use crate::process::{self, Output, Supervised};
use crate::{jvm, probe, tools, TestkitError};

/// How long a broker may take to answer ApiVersions and list itself in Metadata.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// How often the readiness probes run.
const PROBE_INTERVAL: Duration = Duration::from_millis(100);

/// Startups retried when a port picked as free was taken before the broker bound it.
const START_ATTEMPTS: usize = 3;

/// ERROR lines quoted from the start of the broker log in startup errors.
const FIRST_ERRORS: usize = 3;

/// Lines of broker log quoted in startup errors.
const LOG_TAIL_LINES: usize = 30;

/// JVM flags: a small heap for a test machine and C1 only, which starts the broker faster.
const BROKER_FLAGS: &[&str] = &[
    "-Xms256m",
    "-Xmx768m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:TieredStopAtLevel=1",
    "-Djava.awt.headless=true",
];

/// One running single-node broker, killed (and its temp dir removed) when dropped.
///
/// The JVM runs under a supervisor that kills it as soon as this process exits, however it
/// exits, so a broker held in a `static` or in a test that aborts does not outlive the test
/// binary.
#[derive(Debug)]
pub struct Broker {
    // Field order matters: the JVM is killed before its directory is removed. (When this
    // value is never dropped, the supervisor removes the directory; see process.rs.)
    process: Supervised,
    bootstrap: String,
    log_path: PathBuf,
    _dir: TempDir,
}

impl Broker {
    /// Formats KRaft storage in a fresh temp dir and starts a broker on free loopback ports.
    ///
    /// Returns once the broker answers ApiVersions and lists itself in a Metadata response.
    /// Downloads the Kafka jars first if needed (see [`crate::kafka_jars`]). The broker logs
    /// to [`Broker::log_path`], not to this process's output.
    ///
    /// # Errors
    ///
    /// Anything [`crate::kafka_jars`] returns; [`TestkitError::BrokerExited`] or
    /// [`TestkitError::BrokerStartTimeout`] (after 90 s), both quoting the broker log; a
    /// failure of Kafka's StorageTool.
    pub fn start() -> Result<Broker, TestkitError> {
        let home = fetch::kafka_home()?;
        let mut attempt = 1;
        loop {
            match start_once(&home) {
                Ok(broker) => return Ok(broker),
                Err(Failure::PortTaken(_)) if attempt < START_ATTEMPTS => attempt += 1,
                Err(Failure::PortTaken(error) | Failure::Other(error)) => return Err(error),
            }
        }
    }

    /// The address clients bootstrap from, `"127.0.0.1:PORT"`.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// The broker's log file (Log4j 2, INFO level), inside the broker's temp dir.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The process id of the broker's JVM.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }
}

/// Why one startup attempt failed.
enum Failure {
    /// The broker could not bind a port that was free a moment before; worth a retry.
    PortTaken(TestkitError),
    /// Anything else.
    Other(TestkitError),
}

impl From<TestkitError> for Failure {
    fn from(error: TestkitError) -> Self {
        Failure::Other(error)
    }
}

/// One attempt at formatting and starting a broker.
fn start_once(home: &KafkaHome) -> Result<Broker, Failure> {
    let dir = tempfile::Builder::new()
        .prefix("kwire-kafka-")
        .tempdir()
        .map_err(|e| TestkitError::io("create a temp dir for the broker", e))?;
    let logs = dir.path().join("logs");
    fs::create_dir(&logs).map_err(|e| TestkitError::io(format!("create {}", logs.display()), e))?;
    let log_path = logs.join("broker.log");
    let stdout_path = logs.join("stdout.log");

    let (port, controller_port) = free_ports()?;
    let properties = dir.path().join("server.properties");
    let log_config = dir.path().join("log4j2.properties");
    write(
        &properties,
        &server_properties(port, controller_port, &dir.path().join("data")),
    )?;
    write(&log_config, &broker_log4j2(&log_path))?;

    let cluster_id = tools::random_cluster_id(home)?;
    tools::format_storage(home, &cluster_id, &properties)?;

    let mut logs_flag = std::ffi::OsString::from("-Dkafka.logs.dir=");
    logs_flag.push(&logs);
    let flags = BROKER_FLAGS
        .iter()
        .map(std::ffi::OsString::from)
        .chain([logs_flag]);
    let program = jvm::java_program(
        "the Kafka broker",
        &home.lib,
        &log_config,
        flags,
        "kafka.Kafka",
    )?
    .arg(&properties)
    .env("KWIRE_CLEANUP_DIR", dir.path());
    let (process, _) = Supervised::spawn(&program, Output::File(&stdout_path))?;

    let mut broker = Broker {
        process,
        bootstrap: format!("127.0.0.1:{port}"),
        log_path,
        _dir: dir,
    };
    wait_until_ready(&mut broker, port, &stdout_path)?;
    Ok(broker)
}

/// Polls until the broker answers ApiVersions and lists itself as a broker.
fn wait_until_ready(broker: &mut Broker, port: u16, stdout: &Path) -> Result<(), Failure> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = broker.process.try_status() {
            let log = fs::read_to_string(&broker.log_path).unwrap_or_default();
            let error = TestkitError::BrokerExited {
                status: process::describe_status(status),
                log: broker.log_path.clone(),
                tail: log_tail(&log, stdout),
            };
            return Err(if log.contains("Address already in use") {
                Failure::PortTaken(error)
            } else {
                Failure::Other(error)
            });
        }

        let last_probe = match probe_once(&broker.bootstrap, port) {
            Ok(()) => return Ok(()),
            Err(reason) => reason,
        };

        if Instant::now() >= deadline {
            let log = fs::read_to_string(&broker.log_path).unwrap_or_default();
            return Err(Failure::Other(TestkitError::BrokerStartTimeout {
                timeout: START_TIMEOUT,
                last_probe,
                log: broker.log_path.clone(),
                tail: log_tail(&log, stdout),
            }));
        }
        thread::sleep(PROBE_INTERVAL);
    }
}

/// One round of both readiness probes.
fn probe_once(bootstrap: &str, port: u16) -> Result<(), String> {
    probe::api_versions(bootstrap)?;
    let metadata = probe::metadata(bootstrap, None)?;
    if metadata.brokers.iter().any(|b| b.port == i32::from(port)) {
        Ok(())
    } else {
        Err(format!(
            "Metadata lists brokers {:?} but not the one on port {port}",
            metadata.brokers
        ))
    }
}

/// Picks two distinct free loopback ports by binding port 0 twice, then releasing both.
fn free_ports() -> Result<(u16, u16), TestkitError> {
    let bind = || {
        TcpListener::bind("127.0.0.1:0")
            .and_then(|l| Ok((l.local_addr()?.port(), l)))
            .map_err(|e| TestkitError::io("bind a free port on 127.0.0.1", e))
    };
    let (first, _first_listener) = bind()?;
    let (second, _second_listener) = bind()?;
    Ok((first, second))
}

/// `server.properties` for one combined broker + controller node on loopback.
fn server_properties(port: u16, controller_port: u16, data: &Path) -> String {
    format!(
        "\
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={data}
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
",
        data = properties_path(data),
    )
}

/// Log4j 2 configuration sending everything the broker logs to one file.
fn broker_log4j2(log_file: &Path) -> String {
    format!(
        "\
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {file}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.request.name = kafka.request.logger
logger.request.level = WARN
",
        file = properties_path(log_file),
    )
}

/// A path as a Java properties value: backslashes would be escapes, so they are doubled.
fn properties_path(path: &Path) -> String {
    path.display().to_string().replace('\\', "\\\\")
}

/// Writes a configuration file.
fn write(path: &Path, contents: &str) -> Result<(), TestkitError> {
    fs::write(path, contents).map_err(|e| TestkitError::io(format!("write {}", path.display()), e))
}

/// The first errors in the broker log, its last lines, and anything the JVM printed
/// outside Log4j (such as a JVM that could not start at all).
///
/// The first errors matter because a failing broker logs the cause once and then many
/// lines of orderly shutdown.
fn log_tail(log: &str, stdout: &Path) -> String {
    // Each ERROR line with the exception line that follows it, if any.
    let lines: Vec<&str> = log.lines().collect();
    let errors: Vec<String> = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| line.contains("] ERROR ") || line.contains("] FATAL "))
        .take(FIRST_ERRORS)
        .map(|(i, line)| match lines.get(i + 1) {
            Some(next) if !next.starts_with('[') && !next.trim().is_empty() => {
                format!("{line}\n    {}", next.trim())
            }
            _ => (*line).to_owned(),
        })
        .collect();
    let mut tail = String::new();
    if !errors.is_empty() {
        let _ = write!(
            tail,
            "--- first errors ---\n{}\n--- last lines ---\n",
            errors.join("\n")
        );
    }
    let last = process::tail_lines(log, LOG_TAIL_LINES);
    tail.push_str(if last.is_empty() {
        "(the log is empty)"
    } else {
        &last
    });

    let printed = fs::read_to_string(stdout).unwrap_or_default();
    if !printed.trim().is_empty() {
        let _ = write!(
            tail,
            "\n--- JVM stdout/stderr ---\n{}",
            process::tail_lines(&printed, 10)
        );
    }
    tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startup_errors_quote_the_first_error_with_its_exception_and_the_last_lines() {
        let log = "[t] INFO starting (a)\n\
                   [t] ERROR Unable to start acceptor for PLAINTEXT (b)\n\
                   org.apache.kafka.common.KafkaException: Socket server failed to bind: Address already in use.\n\
                   \tat kafka.network.Acceptor.openServerSocket\n\
                   [t] INFO shut down completely (c)\n";
        let tail = log_tail(log, Path::new("/nonexistent/stdout.log"));
        assert!(tail.contains("ERROR Unable to start acceptor"), "{tail}");
        assert!(tail
            .contains("    org.apache.kafka.common.KafkaException: Socket server failed to bind"));
        assert!(
            tail.ends_with("[t] INFO shut down completely (c)"),
            "{tail}"
        );
        assert_eq!(
            log_tail("", Path::new("/nonexistent")),
            "(the log is empty)"
        );
    }

    #[test]
    fn the_broker_listens_on_loopback_only() {
        let properties = server_properties(9092, 9093, Path::new("/tmp/d"));
        assert!(properties
            .contains("\nlisteners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093\n"));
        assert!(properties.contains("\ncontroller.quorum.bootstrap.servers=127.0.0.1:9093\n"));
        assert!(properties.contains("\nlog.dirs=/tmp/d\n"));
        assert!(!properties.contains("0.0.0.0"));
    }

    #[test]
    fn free_ports_are_distinct() {
        let (a, b) = free_ports().unwrap();
        assert_ne!(a, b);
    }
}
