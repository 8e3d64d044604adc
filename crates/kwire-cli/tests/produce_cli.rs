//! `kwire produce` against a real broker, read back by Kafka's own console consumer.

use std::io::Write;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use kwire_testkit::{shared, unique_topic};

fn kwire(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kwire"))
        .args(args)
        .output()
        .expect("run kwire")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The partition kafka-go's LeastBytes picks for each value in turn (written here
/// independently of kwire's partitioner, as the test's own reference).
fn least_bytes_reference(values: &[&[u8]], partitions: usize) -> Vec<i32> {
    let mut counters = vec![0u64; partitions];
    values
        .iter()
        .map(|v| {
            let mut min = 0;
            for i in 1..partitions {
                if counters[i] < counters[min] {
                    min = i;
                }
            }
            counters[min] += v.len() as u64;
            min as i32
        })
        .collect()
}

#[test]
fn the_webhook_dataset_arrives_exactly_once_byte_identical_where_least_bytes_says() {
    let dataset = kwire_testkit::webhook_examples().expect("webhook dataset");
    let text = std::fs::read(&dataset).unwrap();
    let lines: Vec<&[u8]> = text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert!(lines.len() > 300, "the dataset has {} lines", lines.len());

    let cluster = shared();
    let topic = unique_topic("webhooks");
    cluster.create_topic(&topic, 6).unwrap();
    let out = kwire(&[
        "produce",
        "--bootstrap",
        cluster.bootstrap(),
        "--topic",
        &topic,
        "--json",
        dataset.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "kwire failed: {}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(summary["records"], lines.len() as u64);
    assert_eq!(summary["rejected"], 0);
    let total: usize = lines.iter().map(|l| l.len()).sum();
    assert_eq!(summary["bytes"], total as u64);

    let consumed = cluster
        .consume(&topic, lines.len(), Duration::from_secs(120))
        .unwrap();
    assert_eq!(consumed.len(), lines.len(), "every line exactly once");

    // Per partition, offsets follow send order, so the i-th record predicted for partition p
    // must be the one at offset i of p.
    let predicted = least_bytes_reference(&lines, 6);
    for p in 0..6 {
        let expected: Vec<&[u8]> = lines
            .iter()
            .zip(&predicted)
            .filter(|(_, q)| **q == p)
            .map(|(l, _)| *l)
            .collect();
        let got: Vec<(i64, &[u8])> = consumed
            .iter()
            .filter(|r| r.partition == p)
            .map(|r| (r.offset, r.value.as_deref().expect("a value")))
            .collect();
        assert_eq!(got.len(), expected.len(), "partition {p} record count");
        for (i, ((offset, value), want)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(*offset, i as i64, "partition {p} offsets are dense");
            if value != want {
                let at = value
                    .iter()
                    .zip(want.iter())
                    .take_while(|(a, b)| a == b)
                    .count();
                let around = |b: &[u8]| {
                    String::from_utf8_lossy(&b[at.saturating_sub(40)..(at + 40).min(b.len())])
                        .into_owned()
                };
                panic!(
                    "partition {p} offset {offset}: bytes differ at byte {at} (lengths {} and {}): got {:?}, sent {:?}",
                    value.len(),
                    want.len(),
                    around(value),
                    around(want)
                );
            }
        }
        let reported = summary["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["partition"] == p)
            .expect("partition in summary");
        assert_eq!(reported["records"], expected.len() as u64);
        assert_eq!(reported["first_offset"], 0);
        assert_eq!(reported["last_offset"], expected.len() as u64 - 1);
        assert!(consumed
            .iter()
            .all(|r| r.key.is_none() && r.headers.is_empty()));
    }
}

#[test]
fn an_invalid_line_is_reported_and_skipped_and_the_rest_delivered() {
    let cluster = shared();
    let topic = unique_topic("badline");
    cluster.create_topic(&topic, 2).unwrap();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(
        file,
        "{{\"a\":1}}\n{{\"a\":\n\n[1,2,3]\r\n\"text\"\nnot json\n"
    )
    .unwrap();
    let out = kwire(&[
        "produce",
        "-b",
        cluster.bootstrap(),
        "-t",
        &topic,
        file.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].starts_with("line 2: EOF while parsing"), "{err}");
    assert!(lines[1].starts_with("line 6: expected ident"), "{err}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("sent 3 records (20 bytes)"), "{text}");
    assert!(text.contains("2 lines rejected"), "{text}");

    let mut values: Vec<String> = cluster
        .consume(&topic, 3, Duration::from_secs(60))
        .unwrap()
        .into_iter()
        .map(|r| String::from_utf8(r.value.unwrap()).unwrap())
        .collect();
    values.sort();
    assert_eq!(values, vec!["\"text\"", "[1,2,3]", "{\"a\":1}"]);
}

#[test]
fn a_missing_file_is_one_sentence_and_a_failure() {
    let out = kwire(&[
        "produce",
        "--bootstrap",
        "127.0.0.1:9",
        "--topic",
        "t",
        "/no/such/file.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        "kwire: cannot open `/no/such/file.jsonl`: No such file or directory (os error 2)"
    );
}

#[test]
fn an_unreachable_broker_fails_quickly_with_one_sentence() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let start = Instant::now();
    let out = kwire(&["produce", "-b", &addr, "-t", "t", "-"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "kwire: could not connect to broker at {addr}: Connection refused"
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn an_unknown_topic_is_one_sentence_and_a_failure() {
    let cluster = shared();
    let topic = unique_topic("nope");
    let out = kwire(&["produce", "-b", cluster.bootstrap(), "-t", &topic, "-"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        format!("kwire: topic `{topic}` does not exist")
    );
}

#[test]
fn metadata_lists_a_created_topic_with_its_partitions() {
    let cluster = shared();
    let topic = unique_topic("meta");
    cluster.create_topic(&topic, 3).unwrap();
    let out = kwire(&[
        "metadata",
        "-b",
        cluster.bootstrap(),
        "-t",
        &topic,
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["topics"][0]["name"], topic.as_str());
    assert_eq!(v["topics"][0]["partitions"].as_array().unwrap().len(), 3);
    assert_eq!(v["brokers"].as_array().unwrap().len(), 1);
}

#[test]
fn an_oversized_line_and_a_non_utf8_line_are_reported_and_the_rest_delivered() {
    let cluster = shared();
    let topic = unique_topic("oversized");
    cluster.create_topic(&topic, 1).unwrap();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let big = format!("{{\"big\":\"{}\"}}", "x".repeat(1_100_000));
    file.write_all(b"{\"a\":1}\n").unwrap();
    file.write_all(big.as_bytes()).unwrap();
    file.write_all(b"\n{\"s\":\"\xff\"}\n{\"b\":2}\n").unwrap();
    let out = kwire(&[
        "produce",
        "-b",
        cluster.bootstrap(),
        "-t",
        &topic,
        file.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("line 2: not sent: record of ")
            && lines[0].contains("larger than the maximum request size"),
        "{err}"
    );
    assert_eq!(
        lines[1],
        "line 3: not UTF-8 text (invalid byte at column 7)"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("sent 2 records (14 bytes)"), "{text}");
    assert!(text.contains("1 line rejected; 1 record failed"), "{text}");
    let values: Vec<Vec<u8>> = cluster
        .consume(&topic, 2, Duration::from_secs(60))
        .unwrap()
        .into_iter()
        .map(|r| r.value.unwrap())
        .collect();
    assert_eq!(values, vec![b"{\"a\":1}".to_vec(), b"{\"b\":2}".to_vec()]);
}

#[test]
fn a_reader_that_stops_early_ends_kwire_quietly() {
    let cluster = shared();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kwire"))
        .args(["api-versions", "-b", cluster.bootstrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // like `kwire api-versions | head -0`
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stderr(&out), "");
}
