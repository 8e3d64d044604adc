//! Kafka's own command line tools: StorageTool to format a node, TopicCommand to create
//! topics. Each runs in its own short-lived JVM with a bounded run time.
//!
//! Main classes are those of Kafka 4.4's `bin/kafka-storage.sh` and `bin/kafka-topics.sh`.

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use crate::fetch::KafkaHome;
use crate::process::{self, Finished};
use crate::{jvm, probe, TestkitError};

/// How long StorageTool may take for one command.
const STORAGE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long TopicCommand may take.
const TOPIC_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a created topic may take to show all partitions with a leader.
const TOPIC_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How often topic readiness is probed.
const TOPIC_PROBE_INTERVAL: Duration = Duration::from_millis(100);

/// Lines of tool output quoted in errors.
const TAIL_LINES: usize = 30;

/// A fresh cluster id from `StorageTool random-uuid` (22 characters of base64).
pub(crate) fn random_cluster_id(home: &KafkaHome) -> Result<String, TestkitError> {
    let name = "Kafka's StorageTool random-uuid";
    let program = jvm::tool_program(name, home, "kafka.tools.StorageTool")?.arg("random-uuid");
    let finished = checked(name, process::run(&program, STORAGE_TIMEOUT)?)?;

    let id = String::from_utf8_lossy(&finished.stdout).trim().to_owned();
    let valid = id.len() == 22
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(id)
    } else {
        Err(TestkitError::UnexpectedOutput {
            tool: name.to_owned(),
            reason: "expected a 22-character base64 cluster id".to_owned(),
            line: id,
        })
    }
}

/// Formats the storage of a single combined node as a one-voter dynamic quorum.
pub(crate) fn format_storage(
    home: &KafkaHome,
    cluster_id: &str,
    properties: &Path,
) -> Result<(), TestkitError> {
    let name = "Kafka's StorageTool format";
    let program = jvm::tool_program(name, home, "kafka.tools.StorageTool")?
        .args(["format", "--cluster-id", cluster_id, "--config"])
        .arg(properties)
        .arg("--standalone");
    checked(name, process::run(&program, STORAGE_TIMEOUT)?).map(drop)
}

/// Creates a topic with TopicCommand and waits until every partition has a leader.
pub(crate) fn create_topic(
    home: &KafkaHome,
    bootstrap: &str,
    topic: &str,
    partitions: u32,
    configs: &[(&str, &str)],
) -> Result<(), TestkitError> {
    let name = "Kafka's TopicCommand --create";
    let mut program = jvm::tool_program(name, home, "org.apache.kafka.tools.TopicCommand")?
        .args([
            "--bootstrap-server",
            bootstrap,
            "--create",
            "--topic",
            topic,
        ])
        .arg("--partitions")
        .arg(partitions.to_string())
        .args(["--replication-factor", "1"]);
    for (key, value) in configs {
        program = program.arg("--config").arg(format!("{key}={value}"));
    }
    checked(name, process::run(&program, TOPIC_COMMAND_TIMEOUT)?)?;

    wait_for_topic(bootstrap, topic, partitions)
}

/// Polls Metadata until `topic` shows `partitions` partitions, all with a leader.
fn wait_for_topic(bootstrap: &str, topic: &str, partitions: u32) -> Result<(), TestkitError> {
    let deadline = Instant::now() + TOPIC_READY_TIMEOUT;
    loop {
        let last_probe = match probe::metadata(bootstrap, Some(topic)) {
            Ok(metadata) => match metadata.topics.iter().find(|t| t.name == topic) {
                Some(info) if is_ready(info, partitions) => return Ok(()),
                Some(info) => format!("{info:?}"),
                None => "the topic is not listed".to_owned(),
            },
            Err(reason) => reason,
        };
        if Instant::now() >= deadline {
            return Err(TestkitError::TopicNotReady {
                topic: topic.to_owned(),
                partitions,
                timeout: TOPIC_READY_TIMEOUT,
                last_probe,
            });
        }
        thread::sleep(TOPIC_PROBE_INTERVAL);
    }
}

/// Whether a topic has no error and exactly `partitions` partitions with leaders.
fn is_ready(topic: &probe::TopicInfo, partitions: u32) -> bool {
    topic.error_code == 0
        && topic.partitions.len() == partitions as usize
        && topic
            .partitions
            .iter()
            .all(|p| p.error_code == 0 && p.leader_id >= 0)
}

/// Turns a non-zero exit into [`TestkitError::ToolFailed`].
pub(crate) fn checked(name: &str, finished: Finished) -> Result<Finished, TestkitError> {
    if finished.status.success() {
        Ok(finished)
    } else {
        Err(TestkitError::ToolFailed {
            tool: name.to_owned(),
            status: process::describe_status(finished.status),
            output: finished.tail(TAIL_LINES),
        })
    }
}
