//! `Cluster::consume` reports exactly what is in a topic: null and empty keys, values and
//! header values are told apart, and bytes are exact.
//!
//! The records are written by Kafka's own ConsoleProducer, so this checks the test kit
//! alone, without any kwire producer code.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kwire_testkit::{kafka_jars, shared, unique_topic, ConsumedRecord};

type Header = (String, Option<Vec<u8>>);

/// Writes `lines` to `topic` with ConsoleProducer: `headers TAB key TAB value`, headers as
/// `k:v,k:v`, and `<N>` standing for null (no headers, null key, null value or header value).
fn produce_with_console_producer(bootstrap: &str, topic: &str, lines: &str) {
    let mut child = Command::new("java")
        .arg("-Xmx256m")
        .arg("-cp")
        .arg(kafka_jars().unwrap().join("*"))
        .arg("org.apache.kafka.tools.ConsoleProducer")
        .args(["--bootstrap-server", bootstrap, "--topic", topic])
        .args(["--reader-property", "parse.key=true"])
        .args(["--reader-property", "parse.headers=true"])
        .args(["--reader-property", "null.marker=<N>"])
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(lines.as_bytes())
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "ConsoleProducer failed: {status}");
            return;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("ConsoleProducer did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn bytes(s: &str) -> Option<Vec<u8>> {
    Some(s.as_bytes().to_vec())
}

/// The parts of a record that do not depend on which partition it landed in.
fn content(r: &ConsumedRecord) -> (Option<Vec<u8>>, Option<Vec<u8>>, Vec<Header>) {
    (r.key.clone(), r.value.clone(), r.headers.clone())
}

#[test]
fn every_record_is_read_back_exactly() {
    let cluster = shared();
    let topic = unique_topic("testkit-exact");
    cluster.create_topic(&topic, 2).unwrap();
    produce_with_console_producer(
        cluster.bootstrap(),
        &topic,
        "<N>\t<N>\t{\"n\":1}\n\
         <N>\t\t\n\
         h:<N>,e:,h:2\tk\t<N>\n\
         \u{fc}:\u{f6}\tk\u{e9}\t{\"v\":\"\u{e9} \u{2713}\",\"s\":\"a b\\tc\"}\n",
    );

    let started = Instant::now();
    let records = cluster.consume(&topic, 4, Duration::from_secs(60)).unwrap();
    println!(
        "consumed {} records in {:?}",
        records.len(),
        started.elapsed()
    );

    let mut got: Vec<_> = records.iter().map(content).collect();
    let mut expected = vec![
        (None, bytes("{\"n\":1}"), vec![]),
        (bytes(""), bytes(""), vec![]),
        (
            bytes("k"),
            None,
            vec![
                ("h".to_owned(), None),
                ("e".to_owned(), bytes("")),
                ("h".to_owned(), bytes("2")),
            ],
        ),
        (
            bytes("k\u{e9}"),
            bytes("{\"v\":\"\u{e9} \u{2713}\",\"s\":\"a b\\tc\"}"),
            vec![("\u{fc}".to_owned(), bytes("\u{f6}"))],
        ),
    ];
    got.sort();
    expected.sort();
    assert_eq!(got, expected);

    let positions: Vec<_> = records.iter().map(|r| (r.partition, r.offset)).collect();
    let mut sorted = positions.clone();
    sorted.sort();
    assert_eq!(
        positions, sorted,
        "records are sorted by (partition, offset)"
    );
    for partition in [0, 1] {
        let offsets: Vec<_> = records
            .iter()
            .filter(|r| r.partition == partition)
            .map(|r| r.offset)
            .collect();
        assert_eq!(offsets, (0..offsets.len() as i64).collect::<Vec<_>>());
    }
}

#[test]
fn a_short_topic_returns_what_it_has_when_the_timeout_passes() {
    let cluster = shared();
    let topic = unique_topic("testkit-short");
    cluster.create_topic(&topic, 1).unwrap();
    produce_with_console_producer(
        cluster.bootstrap(),
        &topic,
        "<N>\t<N>\tone\n<N>\t<N>\ttwo\n",
    );

    let started = Instant::now();
    let records = cluster.consume(&topic, 3, Duration::from_secs(8)).unwrap();
    let elapsed = started.elapsed();
    let values: Vec<_> = records.iter().map(|r| r.value.clone()).collect();
    assert_eq!(values, vec![bytes("one"), bytes("two")]);
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
}

#[test]
fn expecting_nothing_returns_at_once() {
    let started = Instant::now();
    let records = shared()
        .consume("testkit-never-created", 0, Duration::from_secs(30))
        .unwrap();
    assert!(records.is_empty());
    assert!(started.elapsed() < Duration::from_secs(1));
}
