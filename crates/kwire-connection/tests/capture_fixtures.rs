//! Captures real request/response frames from the broker as codec fixtures.
//!
//! With `KWIRE_CAPTURE_FIXTURES=1` the frames are written to
//! `crates/kwire-codec/tests/fixtures/` (see the README there), which
//! `crates/kwire-codec/tests/fixtures.rs` decodes without a broker. Without it the same
//! exchanges still run against the broker, and each fresh frame must decode, re-encode to
//! the same bytes, and equal the stored fixture once the values that differ between runs
//! (port, cluster id, topic id, topic name, feature epoch) are copied over. Against an
//! external cluster (`KWIRE_BOOTSTRAP`) only the decoding and re-encoding are checked.
//!
//! The frames go over a plain `std::net::TcpStream`, not a `Connection`, so that the bytes
//! stored are exactly the bytes on the wire.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kwire_codec::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use kwire_codec::metadata::{MetadataRequest, MetadataResponse};
use kwire_codec::produce::{
    PartitionProduceData, ProduceRequest, ProduceResponse, TopicProduceData,
};
use kwire_codec::record::BatchBuilder;
use kwire_codec::{
    encode_request_frame, ApiKey, Message, Reader, Request, RequestHeader, ResponseHeader, Uuid,
};
use kwire_testkit::{shared, unique_topic};

const CAPTURE_ENV: &str = "KWIRE_CAPTURE_FIXTURES";
/// The topic of the stored fixtures (a fresh broker per test binary makes it unique).
const FIXTURE_TOPIC: &str = "kwire-fixtures";
const CLIENT_ID: &str = "kwire-fixtures";
/// Record timestamps, fixed so that the produce requests are the same bytes every run.
const TIMESTAMP: i64 = 1_700_000_000_000;

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../kwire-codec/tests/fixtures")
}

/// A raw session: writes request frames and reads response frames, byte for byte.
struct Wire {
    stream: TcpStream,
    next_correlation_id: i32,
}

/// One exchange as it crossed the wire, both frames without their size prefix.
struct Exchange {
    request: Bytes,
    response: Bytes,
}

impl Wire {
    fn connect(addr: &str) -> Wire {
        let stream = TcpStream::connect(addr).expect("connect to the broker");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        Wire {
            stream,
            next_correlation_id: 1,
        }
    }

    fn exchange<R: Request>(&mut self, version: i16, body: &R) -> Exchange {
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id += 1;
        let header = RequestHeader {
            request_api_key: R::API_KEY,
            request_api_version: version,
            correlation_id,
            client_id: Some(CLIENT_ID.to_owned()),
            unknown_tagged_fields: Vec::new(),
        };
        let mut frame = BytesMut::new();
        encode_request_frame(&header, body, &mut frame).unwrap();
        self.stream.write_all(&frame).unwrap();

        let mut size = [0; 4];
        self.stream.read_exact(&mut size).expect("response size");
        let mut response = vec![0; usize::try_from(i32::from_be_bytes(size)).unwrap()];
        self.stream.read_exact(&mut response).expect("response");
        assert_eq!(response[..4], correlation_id.to_be_bytes());
        Exchange {
            request: frame.freeze().slice(4..),
            response: Bytes::from(response),
        }
    }
}

/// Decodes a response frame (header and body), checks that it re-encodes to the same
/// bytes, and returns the body.
fn decode_response<M: Message>(frame: &Bytes, version: i16) -> M {
    let header_version = ApiKey::from_code(M::API_KEY)
        .unwrap()
        .response_header_version(version);
    let mut r = Reader::new(frame.clone());
    let header = ResponseHeader::decode(&mut r, header_version).unwrap();
    let body =
        M::decode(r.take_rest(), version).unwrap_or_else(|e| panic!("{} v{version}: {e}", M::NAME));

    let mut again = BytesMut::new();
    header.encode(header_version, &mut again);
    body.encode(version, &mut again).unwrap();
    assert_eq!(
        &again[..],
        &frame[..],
        "{} v{version} re-encodes to the same bytes",
        M::NAME
    );
    body
}

/// Writes the exchange under `name` (capture mode), or compares the fresh response with the
/// stored one after `normalize` copies the run-specific values from the stored one.
fn keep<M: Message + Clone + PartialEq + std::fmt::Debug>(
    name: &str,
    version: i16,
    exchange: &Exchange,
    normalize: impl Fn(&mut M, &M),
) -> M {
    let fresh: M = decode_response(&exchange.response, version);
    let dir = fixtures_dir();
    let request_path = dir.join(format!("{name}_request.bin"));
    let response_path = dir.join(format!("{name}_response.bin"));
    let own_broker = shared().broker().is_some();
    if std::env::var(CAPTURE_ENV).as_deref() == Ok("1") {
        assert!(
            own_broker,
            "capture from the testkit's own broker: unset KWIRE_BOOTSTRAP"
        );
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&request_path, &exchange.request).unwrap();
        std::fs::write(&response_path, &exchange.response).unwrap();
        return fresh;
    }
    if !own_broker {
        // An external cluster may have more brokers, other leaders, other settings.
        return fresh;
    }
    let stored = std::fs::read(&response_path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with {CAPTURE_ENV}=1", response_path.display()));
    let stored: M = decode_response(&Bytes::from(stored), version);
    let mut normalized = fresh.clone();
    normalize(&mut normalized, &stored);
    assert_eq!(
        normalized, stored,
        "{name}: the broker still answers the same"
    );
    fresh
}

fn batch(values: &[&str]) -> Bytes {
    let mut b = BatchBuilder::new(TIMESTAMP);
    for (i, v) in values.iter().enumerate() {
        let key = format!("key-{i}");
        b.append(TIMESTAMP, Some(key.as_bytes()), Some(v.as_bytes()), &[])
            .unwrap();
    }
    b.finish().unwrap()
}

fn produce(topic: &str, topic_id: Uuid, records: Bytes) -> ProduceRequest {
    ProduceRequest {
        transactional_id: None,
        acks: -1,
        timeout_ms: 30_000,
        topic_data: vec![TopicProduceData {
            name: topic.to_owned(),
            topic_id,
            partition_data: vec![PartitionProduceData {
                index: 0,
                records: Some(records),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn same_cluster(fresh: &mut MetadataResponse, stored: &MetadataResponse) {
    for (f, s) in fresh.brokers.iter_mut().zip(&stored.brokers) {
        f.host.clone_from(&s.host);
        f.port = s.port;
    }
    fresh.cluster_id.clone_from(&stored.cluster_id);
    for (f, s) in fresh.topics.iter_mut().zip(&stored.topics) {
        f.name.clone_from(&s.name);
        f.topic_id = s.topic_id;
    }
}

fn same_topic(fresh: &mut ProduceResponse, stored: &ProduceResponse) {
    for (f, s) in fresh.responses.iter_mut().zip(&stored.responses) {
        f.name.clone_from(&s.name);
        f.topic_id = s.topic_id;
    }
}

#[test]
fn captured_broker_frames_decode_and_match_the_stored_fixtures() {
    let cluster = shared();
    let topic = if cluster.broker().is_some() {
        FIXTURE_TOPIC.to_owned()
    } else {
        unique_topic("fixtures")
    };
    cluster.create_topic(&topic, 3).expect("create topic");
    let mut wire = Wire::connect(cluster.bootstrap());

    let software = ApiVersionsRequest {
        client_software_name: "kwire".to_owned(),
        client_software_version: "0.1.0".to_owned(),
        ..Default::default()
    };
    let same_epoch = |f: &mut ApiVersionsResponse, s: &ApiVersionsResponse| {
        f.finalized_features_epoch = s.finalized_features_epoch;
    };
    let v5 = keep(
        "api_versions_v5",
        5,
        &wire.exchange(5, &software),
        same_epoch,
    );
    assert_eq!(v5.range(ApiKey::Produce.code()), Some((0, 13)));
    keep(
        "api_versions_v0",
        0,
        &wire.exchange(0, &software),
        same_epoch,
    );

    let metadata = MetadataRequest::for_topics(&[&topic], false);
    let v0: MetadataResponse = keep("metadata_v0", 0, &wire.exchange(0, &metadata), same_cluster);
    assert_eq!(v0.topics[0].partitions.len(), 3);
    let v12: MetadataResponse = keep(
        "metadata_v12",
        12,
        &wire.exchange(12, &metadata),
        same_cluster,
    );
    let topic_id = v12.topics[0].topic_id;
    assert_ne!(topic_id, [0; 16]);

    let two = produce(&topic, topic_id, batch(&["{\"n\":1}", "{\"n\":2}"]));
    let v9: ProduceResponse = keep("produce_v9", 9, &wire.exchange(9, &two), same_topic);
    assert_eq!(v9.responses[0].partition_responses[0].base_offset, 0);
    let one = produce(&topic, topic_id, batch(&["{\"n\":3}"]));
    let v13: ProduceResponse = keep("produce_v13", 13, &wire.exchange(13, &one), same_topic);
    assert_eq!(v13.responses[0].partition_responses[0].base_offset, 2);
    assert_eq!(v13.responses[0].topic_id, topic_id);
}
