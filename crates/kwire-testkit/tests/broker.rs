//! The test broker itself: it starts, answers, creates topics and dies when dropped.
//!
//! These run against a real Kafka broker (Java 17+ and Maven needed on the first run).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use kwire_testkit::{kafka_jars, shared, unique_topic, Broker, Cluster, TestkitError};

/// Sends the ApiVersions v0 request from the crate docs and returns the response error code.
fn api_versions_error_code(bootstrap: &str) -> std::io::Result<i16> {
    let mut stream = TcpStream::connect(bootstrap)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(&[0, 0, 0, 12, 0, 18, 0, 0, 0, 0, 0, 1, 0, 2, b'r', b'k'])?;
    let mut size = [0u8; 4];
    stream.read_exact(&mut size)?;
    let mut body = vec![0u8; i32::from_be_bytes(size) as usize];
    stream.read_exact(&mut body)?;
    assert_eq!(&body[..4], &[0, 0, 0, 1], "correlation id");
    Ok(i16::from_be_bytes([body[4], body[5]]))
}

/// `PartitionCount` of `topic` as Kafka's own TopicCommand --describe reports it.
fn described_partition_count(bootstrap: &str, topic: &str) -> u32 {
    let output = Command::new("java")
        .arg("-Xmx256m")
        .arg("-cp")
        .arg(kafka_jars().unwrap().join("*"))
        .arg("org.apache.kafka.tools.TopicCommand")
        .args([
            "--bootstrap-server",
            bootstrap,
            "--describe",
            "--topic",
            topic,
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "describe failed: {stdout}");
    let count = stdout
        .split_whitespace()
        .skip_while(|word| *word != "PartitionCount:")
        .nth(1)
        .unwrap_or_else(|| panic!("no PartitionCount in {stdout}"));
    count.parse().unwrap()
}

#[test]
fn shared_broker_answers_api_versions_on_loopback() {
    let bootstrap = shared().bootstrap();
    if std::env::var_os(kwire_testkit::BOOTSTRAP_ENV).is_none() {
        assert!(bootstrap.starts_with("127.0.0.1:"), "{bootstrap}");
    }
    assert_eq!(api_versions_error_code(bootstrap).unwrap(), 0);
}

#[test]
fn a_created_topic_is_visible_with_all_its_partitions() {
    let cluster = shared();
    let topic = unique_topic("testkit-three");
    cluster.create_topic(&topic, 3).unwrap();
    assert_eq!(described_partition_count(cluster.bootstrap(), &topic), 3);
}

#[test]
fn topic_configs_are_passed_to_kafka() {
    let cluster = shared();
    let topic = unique_topic("testkit-config");
    cluster
        .create_topic_with_config(&topic, 1, &[("max.message.bytes", "2048")])
        .unwrap();

    let bad = unique_topic("testkit-bad-config");
    let err = cluster
        .create_topic_with_config(&bad, 1, &[("no.such.config", "1")])
        .unwrap_err();
    assert!(matches!(err, TestkitError::ToolFailed { .. }), "{err}");
}

#[test]
fn creating_an_existing_topic_is_a_clear_error() {
    let cluster = shared();
    let topic = unique_topic("testkit-twice");
    cluster.create_topic(&topic, 1).unwrap();
    let err = cluster.create_topic(&topic, 1).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
}

#[test]
fn an_external_cluster_uses_the_given_address() {
    let external = Cluster::external(shared().bootstrap());
    assert_eq!(external.bootstrap(), shared().bootstrap());
    assert!(external.broker().is_none());
    let topic = unique_topic("testkit-external");
    external.create_topic(&topic, 2).unwrap();
    assert_eq!(described_partition_count(external.bootstrap(), &topic), 2);
}

#[test]
fn dropping_a_broker_kills_its_jvm_and_removes_its_directory() {
    let broker = Broker::start().unwrap();
    let pid = broker.pid();
    let bootstrap = broker.bootstrap().to_owned();
    let dir = broker
        .log_path()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_owned();
    let proc_entry = format!("/proc/{pid}");
    let cmdline = std::fs::read(format!("{proc_entry}/cmdline")).unwrap();
    assert!(
        String::from_utf8_lossy(&cmdline).contains("kafka.Kafka"),
        "pid {pid} is not the broker"
    );
    assert!(broker.log_path().is_file());
    assert_eq!(api_versions_error_code(&bootstrap).unwrap(), 0);

    let started = Instant::now();
    drop(broker);
    println!("drop took {:?}", started.elapsed());

    assert!(!Path::new(&proc_entry).exists(), "JVM {pid} still running");
    assert!(
        TcpStream::connect(&bootstrap).is_err(),
        "port still accepts"
    );
    assert!(!dir.exists(), "{} was not removed", dir.display());
}
