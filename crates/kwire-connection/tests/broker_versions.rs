//! Every version kwire speaks, sent to a real Apache Kafka 4.4 broker and decoded.
//!
//! Each test uses `Connection::connect` (which negotiates with ApiVersions) and then
//! `call_at` with an explicit version, so a version the negotiation would never pick is still
//! exercised. Topics are unique per test; the broker is the testkit's shared one.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use kwire_codec::api_versions::ApiVersionsRequest;
use kwire_codec::metadata::{MetadataRequest, MetadataResponse, AUTHORIZED_OPERATIONS_OMITTED};
use kwire_codec::produce::{
    LeaderIdAndEpoch, PartitionProduceData, ProduceRequest, ProduceResponse, TopicProduceData,
};
use kwire_codec::record::BatchBuilder;
use kwire_codec::{ApiKey, ErrorCode, Uuid};
use kwire_connection::{Connection, ConnectionConfig};
use kwire_testkit::{shared, unique_topic};

/// Offset of the CRC field in a record batch (KAFKA-NOTES 4.1).
const CRC_OFFSET: usize = 17;

fn now_ms() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since_epoch.as_millis()).unwrap()
}

async fn connect() -> Connection {
    Connection::connect(shared().bootstrap(), ConnectionConfig::default())
        .await
        .expect("connect to the shared broker")
}

/// One uncompressed batch holding a record per value, keyed `k0`, `k1`, …
fn batch(values: &[&str]) -> Bytes {
    let ts = now_ms();
    let mut b = BatchBuilder::new(ts);
    for (i, v) in values.iter().enumerate() {
        let key = format!("k{i}");
        b.append(ts, Some(key.as_bytes()), Some(v.as_bytes()), &[])
            .unwrap();
    }
    b.finish().unwrap()
}

/// A request for one batch to `partition`, addressed by name (v3–12) or id (v13).
fn produce_request(topic: &str, topic_id: Uuid, partition: i32, records: Bytes) -> ProduceRequest {
    ProduceRequest {
        transactional_id: None,
        acks: -1,
        timeout_ms: 30_000,
        topic_data: vec![TopicProduceData {
            name: topic.to_owned(),
            topic_id,
            partition_data: vec![PartitionProduceData {
                index: partition,
                records: Some(records),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The topic id, read with Metadata v12 (ids come with v10+).
async fn topic_id(conn: &Connection, topic: &str) -> Uuid {
    let response = conn
        .call_at(12, &MetadataRequest::for_topics(&[topic], false))
        .await
        .expect("metadata v12");
    let id = response.topics[0].topic_id;
    assert_ne!(id, [0; 16], "a created topic has a non-zero id");
    id
}

/// The one partition response of a single-partition produce, after checking the topic part.
fn only_partition(
    response: &ProduceResponse,
    version: i16,
    topic: &str,
    topic_id: Uuid,
) -> kwire_codec::produce::PartitionProduceResponse {
    assert_eq!(response.responses.len(), 1, "v{version}: one topic");
    let t = &response.responses[0];
    if version >= 13 {
        assert_eq!(t.topic_id, topic_id, "v{version}: answered by topic id");
        assert_eq!(t.name, "", "v{version}: no name on the wire");
    } else {
        assert_eq!(t.name, topic, "v{version}: answered by name");
        assert_eq!(t.topic_id, [0; 16], "v{version}: no id on the wire");
    }
    assert_eq!(t.partition_responses.len(), 1, "v{version}: one partition");
    t.partition_responses[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_versions_succeeds_at_every_version_from_0_to_5() {
    let conn = connect().await;
    let request = ApiVersionsRequest {
        client_software_name: "kwire-test".to_owned(),
        client_software_version: "0.1".to_owned(),
        ..Default::default()
    };

    for version in 0..=5 {
        let response = conn.call_at(version, &request).await.unwrap_or_else(|e| {
            panic!("ApiVersions v{version}: {e}");
        });
        assert_eq!(response.error_code, ErrorCode::None, "v{version}");
        // KAFKA-18659: Produce is advertised from v0 although v0-2 are refused.
        assert_eq!(response.range(0), Some((0, 13)), "v{version}: Produce");
        assert_eq!(response.range(3), Some((0, 13)), "v{version}: Metadata");
        assert_eq!(response.range(18), Some((0, 5)), "v{version}: ApiVersions");
        assert_eq!(response.throttle_time_ms, 0, "v{version}");
        if version >= 3 {
            assert!(
                response
                    .finalized_features
                    .iter()
                    .any(|f| f.name == "metadata.version"),
                "v{version}: finalized features carry metadata.version"
            );
            assert!(response.finalized_features_epoch >= 0, "v{version}");
        } else {
            assert!(response.supported_features.is_empty(), "v{version}");
            assert!(response.finalized_features.is_empty(), "v{version}");
            assert_eq!(response.finalized_features_epoch, -1, "v{version}");
        }
    }

    assert_eq!(conn.version(ApiKey::ApiVersions).unwrap(), 5);
    assert_eq!(conn.version(ApiKey::Metadata).unwrap(), 13);
    assert_eq!(conn.version(ApiKey::Produce).unwrap(), 13);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_succeeds_at_every_version_from_0_to_13_and_lists_the_topic() {
    let cluster = shared();
    let topic = unique_topic("meta-versions");
    cluster.create_topic(&topic, 3).expect("create topic");
    let conn = connect().await;
    let request = MetadataRequest::for_topics(&[&topic], false);

    let mut seen_ids = Vec::new();
    let mut seen_cluster_ids = Vec::new();
    for version in 0..=13 {
        let r: MetadataResponse = conn.call_at(version, &request).await.unwrap_or_else(|e| {
            panic!("Metadata v{version}: {e}");
        });

        assert_eq!(r.throttle_time_ms, 0, "v{version}");
        assert_eq!(r.brokers.len(), 1, "v{version}: one broker");
        let broker = &r.brokers[0];
        if cluster.broker().is_some() {
            let addr = format!("{}:{}", broker.host, broker.port);
            assert_eq!(addr, cluster.bootstrap(), "v{version}: advertised listener");
        }
        assert_eq!(broker.rack, None, "v{version}: no rack configured");
        if version >= 1 {
            assert_eq!(
                r.controller_id, broker.node_id,
                "v{version}: KRaft names a broker"
            );
        } else {
            assert_eq!(
                r.controller_id, -1,
                "v{version}: no controller id on the wire"
            );
        }
        if version >= 2 {
            let id = r.cluster_id.clone().expect("cluster id from v2");
            assert!(!id.is_empty(), "v{version}");
            seen_cluster_ids.push(id);
        } else {
            assert_eq!(r.cluster_id, None, "v{version}: no cluster id on the wire");
        }
        // v8-10 carry the field; not asked for, the broker sends the "omitted" marker, which
        // is also the codec's value where the field is absent.
        assert_eq!(
            r.cluster_authorized_operations, AUTHORIZED_OPERATIONS_OMITTED,
            "v{version}"
        );
        assert_eq!(r.error_code, ErrorCode::None, "v{version}");

        assert_eq!(r.topics.len(), 1, "v{version}: the one topic asked for");
        let t = &r.topics[0];
        assert_eq!(t.error_code, ErrorCode::None, "v{version}");
        assert_eq!(t.name.as_deref(), Some(topic.as_str()), "v{version}");
        assert!(!t.is_internal, "v{version}");
        assert_eq!(
            t.topic_authorized_operations, AUTHORIZED_OPERATIONS_OMITTED,
            "v{version}: not asked for"
        );
        if version >= 10 {
            assert_ne!(t.topic_id, [0; 16], "v{version}: topic id from v10");
            seen_ids.push(t.topic_id);
        } else {
            assert_eq!(t.topic_id, [0; 16], "v{version}: no topic id on the wire");
        }

        let mut indexes: Vec<i32> = t.partitions.iter().map(|p| p.partition_index).collect();
        indexes.sort_unstable();
        assert_eq!(indexes, vec![0, 1, 2], "v{version}: three partitions");
        for p in &t.partitions {
            assert_eq!(p.error_code, ErrorCode::None, "v{version}");
            assert_eq!(p.leader_id, broker.node_id, "v{version}");
            assert_eq!(p.replica_nodes, vec![broker.node_id], "v{version}");
            assert_eq!(p.isr_nodes, vec![broker.node_id], "v{version}");
            assert!(p.offline_replicas.is_empty(), "v{version}");
            if version >= 7 {
                assert!(p.leader_epoch >= 0, "v{version}: leader epoch from v7");
            } else {
                assert_eq!(
                    p.leader_epoch, -1,
                    "v{version}: no leader epoch on the wire"
                );
            }
        }
    }

    assert_eq!(seen_ids.len(), 4);
    assert!(seen_ids.windows(2).all(|w| w[0] == w[1]), "one topic id");
    assert_eq!(seen_cluster_ids.len(), 12);
    assert!(
        seen_cluster_ids.windows(2).all(|w| w[0] == w[1]),
        "one cluster id"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_succeeds_at_every_version_from_3_to_13() {
    let cluster = shared();
    let topic = unique_topic("produce-versions");
    cluster.create_topic(&topic, 1).expect("create topic");
    let conn = connect().await;
    let id = topic_id(&conn, &topic).await;

    for version in 3..=13 {
        let value = format!("produced at v{version}");
        let request = produce_request(&topic, id, 0, batch(&[&value]));
        let response = conn.call_at(version, &request).await.unwrap_or_else(|e| {
            panic!("Produce v{version}: {e}");
        });

        assert_eq!(response.throttle_time_ms, 0, "v{version}");
        assert!(response.node_endpoints.is_empty(), "v{version}");
        let p = only_partition(&response, version, &topic, id);
        assert_eq!(p.index, 0, "v{version}");
        assert_eq!(p.error_code, ErrorCode::None, "v{version}");
        assert_eq!(
            p.base_offset,
            i64::from(version - 3),
            "v{version}: one record each"
        );
        assert_eq!(p.log_append_time_ms, -1, "v{version}: CreateTime topic");
        // -1 below v5 is the codec's default: the field is not on the wire.
        let log_start = if version >= 5 { 0 } else { -1 };
        assert_eq!(p.log_start_offset, log_start, "v{version}");
        assert!(p.record_errors.is_empty(), "v{version}");
        assert_eq!(p.error_message, None, "v{version}");
        assert_eq!(p.current_leader, LeaderIdAndEpoch::default(), "v{version}");
    }

    let records = cluster
        .consume(&topic, 11, Duration::from_secs(60))
        .expect("console consumer");
    let values: Vec<(i64, String)> = records
        .iter()
        .map(|r| {
            let v = String::from_utf8(r.value.clone().unwrap()).unwrap();
            (r.offset, v)
        })
        .collect();
    let expected: Vec<(i64, String)> = (3..=13)
        .map(|v| (i64::from(v - 3), format!("produced at v{v}")))
        .collect();
    assert_eq!(values, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_with_a_flipped_crc_byte_is_answered_corrupt_message_at_every_version() {
    let cluster = shared();
    let topic = unique_topic("corrupt-crc");
    cluster.create_topic(&topic, 1).expect("create topic");
    let conn = connect().await;
    let id = topic_id(&conn, &topic).await;

    for version in 3..=13 {
        let mut bytes = batch(&["this batch lies about its CRC"]).to_vec();
        bytes[CRC_OFFSET + 1] ^= 0xff;
        let request = produce_request(&topic, id, 0, Bytes::from(bytes));
        let response = conn.call_at(version, &request).await.unwrap_or_else(|e| {
            panic!("Produce v{version} with a bad CRC: {e}");
        });

        let p = only_partition(&response, version, &topic, id);
        assert_eq!(p.error_code, ErrorCode::CorruptMessage, "v{version}");
        assert_eq!(p.base_offset, -1, "v{version}");
        assert_eq!(p.log_start_offset, -1, "v{version}");
        assert!(p.record_errors.is_empty(), "v{version}");
        assert_eq!(p.error_message, None, "v{version}");
    }

    // The broker answered instead of closing, and wrote nothing: a good batch is offset 0.
    assert!(!conn.is_closed());
    let good = produce_request(&topic, id, 0, batch(&["fine"]));
    let response = conn.call_at(13, &good).await.expect("produce a good batch");
    let p = only_partition(&response, 13, &topic, id);
    assert_eq!(p.error_code, ErrorCode::None);
    assert_eq!(p.base_offset, 0, "no corrupt batch was written");
}
