//! Records produced with kwire and read back by Kafka's own console consumer: keys,
//! headers, null versus empty keys, tombstones.

use std::time::Duration;

use bytes::Bytes;
use kwire::producer::{Acks, ProducerConfig, RecordHeader};
use kwire::{Producer, Record};
use kwire_testkit::{shared, unique_topic, ConsumedRecord};

fn header(key: &str, value: Option<&str>) -> RecordHeader {
    RecordHeader {
        key: key.to_owned(),
        value: value.map(|v| Bytes::copy_from_slice(v.as_bytes())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_headers_null_and_empty_keys_and_tombstones_survive_the_broker() {
    let cluster = shared();
    let topic = unique_topic("roundtrip");
    cluster.create_topic(&topic, 1).expect("create topic");
    let producer = Producer::connect(ProducerConfig::new([cluster.bootstrap()]))
        .await
        .expect("connect");

    let records = [
        Record::value("with-key").with_key("k1"),
        Record::value("null-key"),
        Record::value("empty-key").with_key(""),
        Record {
            key: Some(Bytes::from_static(b"gone")),
            value: None,
            ..Default::default()
        },
        Record::value("")
            .with_key("empty-value")
            .with_header("h1", Some(Bytes::from_static(b"v1")))
            .with_header("h2", Some(Bytes::from_static(b"v2"))),
    ];
    let mut offsets = Vec::new();
    for r in records.iter().cloned() {
        let d = producer
            .send(&topic, r)
            .await
            .expect("enqueue")
            .await
            .expect("delivered");
        assert_eq!(d.topic, topic);
        assert_eq!(d.partition, 0);
        offsets.push(d.offset);
    }
    assert_eq!(offsets, vec![0, 1, 2, 3, 4]);

    let got = cluster
        .consume(&topic, records.len(), Duration::from_secs(60))
        .expect("console consumer");
    let expect =
        |offset: i64, key: Option<&str>, value: Option<&str>, headers: Vec<RecordHeader>| {
            ConsumedRecord {
                partition: 0,
                offset,
                key: key.map(|k| k.as_bytes().to_vec()),
                value: value.map(|v| v.as_bytes().to_vec()),
                headers: headers
                    .into_iter()
                    .map(|h| (h.key, h.value.map(|v| v.to_vec())))
                    .collect(),
            }
        };
    assert_eq!(
        got,
        vec![
            expect(0, Some("k1"), Some("with-key"), vec![]),
            expect(1, None, Some("null-key"), vec![]),
            expect(2, Some(""), Some("empty-key"), vec![]),
            expect(3, Some("gone"), None, vec![]),
            expect(
                4,
                Some("empty-value"),
                Some(""),
                vec![header("h1", Some("v1")), header("h2", Some("v2"))]
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_json_reports_partition_and_offset_in_least_bytes_order() {
    let cluster = shared();
    let topic = unique_topic("json");
    cluster.create_topic(&topic, 3).expect("create topic");
    let producer = Producer::connect(ProducerConfig::new([cluster.bootstrap()]))
        .await
        .expect("connect");
    let mut landed = Vec::new();
    for i in 0..6 {
        let d = producer
            .send_json(&topic, &serde_json::json!({ "n": i }))
            .await
            .expect("delivered");
        landed.push((d.partition, d.offset));
    }
    // Every value is 7 bytes ({"n":0}), so LeastBytes cycles 0, 1, 2.
    assert_eq!(landed, vec![(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)]);
    let got = cluster
        .consume(&topic, 6, Duration::from_secs(60))
        .expect("console consumer");
    let values: Vec<(i32, String)> = got
        .iter()
        .map(|r| {
            (
                r.partition,
                String::from_utf8(r.value.clone().unwrap()).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        values,
        vec![
            (0, r#"{"n":0}"#.to_owned()),
            (0, r#"{"n":3}"#.to_owned()),
            (1, r#"{"n":1}"#.to_owned()),
            (1, r#"{"n":4}"#.to_owned()),
            (2, r#"{"n":2}"#.to_owned()),
            (2, r#"{"n":5}"#.to_owned()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_leader_and_acks_none_both_deliver() {
    let cluster = shared();
    let topic = unique_topic("acks");
    cluster.create_topic(&topic, 1).expect("create topic");
    for (acks, expect_offset) in [(Acks::Leader, Some(0)), (Acks::None, None)] {
        let mut config = ProducerConfig::new([cluster.bootstrap()]);
        config.acks = acks;
        let producer = Producer::connect(config).await.expect("connect");
        let d = producer.send_json(&topic, &"x").await.expect("delivered");
        match expect_offset {
            Some(o) => assert_eq!(d.offset, o),
            None => assert_eq!(d.offset, -1, "acks=0 has no offsets"),
        }
        producer.flush().await;
    }
    let got = cluster
        .consume(&topic, 2, Duration::from_secs(60))
        .expect("consume");
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].value.as_deref(), Some(&b"\"x\""[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_topic_is_a_clear_error() {
    let cluster = shared();
    let producer = Producer::connect(ProducerConfig::new([cluster.bootstrap()]))
        .await
        .expect("connect");
    let topic = unique_topic("missing");
    let err = producer.send_json(&topic, &1).await.unwrap_err();
    assert_eq!(err.to_string(), format!("topic `{topic}` does not exist"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_producer_shared_by_many_tasks_delivers_every_record_once() {
    let cluster = shared();
    let topic = unique_topic("shared");
    cluster.create_topic(&topic, 4).expect("create topic");
    let producer = Producer::connect(ProducerConfig::new([cluster.bootstrap()]))
        .await
        .expect("connect");
    let mut tasks = Vec::new();
    for task in 0..4 {
        let producer = producer.clone();
        let topic = topic.clone();
        tasks.push(tokio::spawn(async move {
            let mut pending = Vec::new();
            for i in 0..250 {
                let value = serde_json::to_vec(&serde_json::json!({"task": task, "i": i})).unwrap();
                pending.push(
                    producer
                        .send(&topic, Record::value(value))
                        .await
                        .expect("enqueue"),
                );
            }
            let mut landed = Vec::new();
            for p in pending {
                let d = p.await.expect("delivered");
                landed.push((d.partition, d.offset));
            }
            landed
        }));
    }
    let mut landed = Vec::new();
    for t in tasks {
        landed.extend(t.await.unwrap());
    }
    landed.sort();
    let before = landed.len();
    landed.dedup();
    assert_eq!(
        (before, landed.len()),
        (1000, 1000),
        "every (partition, offset) once"
    );

    let got = cluster
        .consume(&topic, 1000, Duration::from_secs(60))
        .expect("consume");
    assert_eq!(got.len(), 1000);
    let mut seen: Vec<(i64, i64)> = got
        .iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_slice(r.value.as_deref().unwrap()).unwrap();
            (v["task"].as_i64().unwrap(), v["i"].as_i64().unwrap())
        })
        .collect();
    seen.sort();
    let expected: Vec<(i64, i64)> = (0..4).flat_map(|t| (0..250).map(move |i| (t, i))).collect();
    assert_eq!(seen, expected);
    // Each task's records keep their order within a partition.
    for p in 0..4 {
        for t in 0..4 {
            let order: Vec<i64> = got
                .iter()
                .filter(|r| r.partition == p)
                .map(|r| {
                    serde_json::from_slice::<serde_json::Value>(r.value.as_deref().unwrap())
                        .unwrap()
                })
                .filter(|v| v["task"] == t)
                .map(|v| v["i"].as_i64().unwrap())
                .collect();
            assert!(
                order.windows(2).all(|w| w[0] < w[1]),
                "task {t} in partition {p}: {order:?}"
            );
        }
    }
}
