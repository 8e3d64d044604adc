//! Frames captured from a real Apache Kafka 4.4.0 broker (see `fixtures/README.md`),
//! decoded without a broker: concrete values, and decode → encode giving the same bytes.
//!
//! The requests are the ones kwire sent to get these responses; each response follows its
//! request in one session, so the fixtures also agree with each other (the topic id the
//! Metadata v12 response names is the one the Produce v13 request and response carry).

use bytes::{Bytes, BytesMut};
use kwire_codec::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use kwire_codec::metadata::{MetadataRequest, MetadataResponse, AUTHORIZED_OPERATIONS_OMITTED};
use kwire_codec::produce::{ProduceRequest, ProduceResponse};
use kwire_codec::record::{CrcCheck, RecordBatch};
use kwire_codec::{
    encode_request_frame, ApiKey, ErrorCode, Message, Reader, RequestHeader, ResponseHeader,
};

const TOPIC: &str = "kwire-fixtures";
const CLIENT_ID: &str = "kwire-fixtures";
/// The port the capturing broker listened on (the testkit picks a free one).
const PORT: i32 = 39607;
const NODE_ID: i32 = 1;
const CLUSTER_ID: &str = "OZ2EdFPSTcih2vqkIjd3_A";
const TOPIC_ID: [u8; 16] = [
    0x29, 0x8b, 0xb0, 0x98, 0x81, 0xfb, 0x4a, 0xc9, 0xba, 0xb8, 0xa4, 0x2d, 0xda, 0xb8, 0xda, 0x60,
];

/// Decodes a response frame (no size prefix) and checks that header and body re-encode to
/// exactly the same bytes.
fn response<M: Message>(frame: &'static [u8], version: i16) -> (ResponseHeader, M) {
    let header_version = ApiKey::from_code(M::API_KEY)
        .unwrap()
        .response_header_version(version);
    let mut r = Reader::new(Bytes::from_static(frame));
    let header = ResponseHeader::decode(&mut r, header_version).unwrap();
    let body = M::decode(r.take_rest(), version).unwrap();

    let mut again = BytesMut::new();
    header.encode(header_version, &mut again);
    body.encode(version, &mut again).unwrap();
    assert_eq!(&again[..], frame, "{} v{version} round trip", M::NAME);
    (header, body)
}

/// Decodes a request frame (no size prefix) and checks that it re-encodes to the same bytes.
fn request<M: Message>(frame: &'static [u8]) -> (RequestHeader, M) {
    let mut r = Reader::new(Bytes::from_static(frame));
    let header = RequestHeader::decode(&mut r).unwrap();
    assert_eq!(header.request_api_key, M::API_KEY);
    let body = M::decode(r.take_rest(), header.request_api_version).unwrap();

    let mut again = BytesMut::new();
    encode_request_frame(&header, &body, &mut again).unwrap();
    assert_eq!(&again[4..], frame, "{} request round trip", M::NAME);
    assert_eq!(
        u32::from_be_bytes(again[..4].try_into().unwrap()) as usize,
        frame.len()
    );
    (header, body)
}

fn request_header(header: &RequestHeader, api: ApiKey, version: i16, correlation_id: i32) {
    assert_eq!(header.request_api_key, api.code());
    assert_eq!(header.request_api_version, version);
    assert_eq!(header.correlation_id, correlation_id);
    assert_eq!(header.client_id.as_deref(), Some(CLIENT_ID));
    assert!(header.unknown_tagged_fields.is_empty());
}

#[test]
fn api_versions_v0_exchange_decodes_to_the_brokers_77_apis() {
    let (h, req): (_, ApiVersionsRequest) =
        request(include_bytes!("fixtures/api_versions_v0_request.bin"));
    request_header(&h, ApiKey::ApiVersions, 0, 2);
    assert_eq!(req.client_software_name, "", "v0 has an empty body");

    let (h, r): (_, ApiVersionsResponse) =
        response(include_bytes!("fixtures/api_versions_v0_response.bin"), 0);
    assert_eq!(h.correlation_id, 2);
    assert_eq!(r.error_code, ErrorCode::None);
    assert_eq!(r.api_keys.len(), 77);
    assert_eq!(r.range(ApiKey::Produce.code()), Some((0, 13)));
    assert_eq!(r.range(ApiKey::Metadata.code()), Some((0, 13)));
    assert_eq!(r.range(ApiKey::ApiVersions.code()), Some((0, 5)));
    assert_eq!(r.range(1), Some((4, 18)), "Fetch");
    assert_eq!(r.api_keys.last().unwrap().api_key, 94);
    assert_eq!(r.throttle_time_ms, 0, "not on the wire at v0");
    assert!(r.supported_features.is_empty());
}

#[test]
fn api_versions_v5_exchange_decodes_with_features() {
    let (h, req): (_, ApiVersionsRequest) =
        request(include_bytes!("fixtures/api_versions_v5_request.bin"));
    request_header(&h, ApiKey::ApiVersions, 5, 1);
    assert_eq!(req.client_software_name, "kwire");
    assert_eq!(req.client_software_version, "0.1.0");
    assert_eq!(req.cluster_id, None);
    assert_eq!(req.node_id, -1);

    let (h, r): (_, ApiVersionsResponse) =
        response(include_bytes!("fixtures/api_versions_v5_response.bin"), 5);
    assert_eq!(h.correlation_id, 1);
    assert!(h.unknown_tagged_fields.is_empty(), "header v0 even at v5");
    assert_eq!(r.error_code, ErrorCode::None);
    assert_eq!(r.api_keys.len(), 77);
    assert_eq!(r.range(ApiKey::Produce.code()), Some((0, 13)));
    assert_eq!(r.range(ApiKey::ApiVersions.code()), Some((0, 5)));
    assert_eq!(r.throttle_time_ms, 0);
    let supported: Vec<(&str, i16, i16)> = r
        .supported_features
        .iter()
        .map(|f| (f.name.as_str(), f.min_version, f.max_version))
        .collect();
    assert_eq!(supported.len(), 7);
    assert!(supported.contains(&("metadata.version", 7, 33)));
    assert!(supported.contains(&("transaction.version", 0, 2)));
    let metadata_version = r
        .finalized_features
        .iter()
        .find(|f| f.name == "metadata.version")
        .unwrap();
    assert_eq!(metadata_version.min_version_level, 33);
    assert_eq!(metadata_version.max_version_level, 33);
    assert_eq!(r.finalized_features.len(), 7);
    assert_eq!(r.finalized_features_epoch, 27);
    assert!(!r.zk_migration_ready);
}

#[test]
fn metadata_v0_exchange_decodes_to_one_broker_and_three_partitions() {
    let (h, req): (_, MetadataRequest) =
        request(include_bytes!("fixtures/metadata_v0_request.bin"));
    request_header(&h, ApiKey::Metadata, 0, 3);
    let names: Vec<_> = req.topics.unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names, vec![Some(TOPIC.to_owned())]);

    let (h, r): (_, MetadataResponse) =
        response(include_bytes!("fixtures/metadata_v0_response.bin"), 0);
    assert_eq!(h.correlation_id, 3);
    assert_eq!(r.brokers.len(), 1);
    assert_eq!(r.brokers[0].node_id, NODE_ID);
    assert_eq!(r.brokers[0].host, "127.0.0.1");
    assert_eq!(r.brokers[0].port, PORT);
    assert_eq!(r.brokers[0].rack, None);
    assert_eq!(r.cluster_id, None, "v2+");
    assert_eq!(r.controller_id, -1, "v1+");
    assert_eq!(r.topics.len(), 1);
    let t = &r.topics[0];
    assert_eq!(t.error_code, ErrorCode::None);
    assert_eq!(t.name.as_deref(), Some(TOPIC));
    assert_eq!(t.topic_id, [0; 16], "v10+");
    let indexes: Vec<i32> = t.partitions.iter().map(|p| p.partition_index).collect();
    assert_eq!(indexes, vec![0, 1, 2]);
    for p in &t.partitions {
        assert_eq!(p.error_code, ErrorCode::None);
        assert_eq!(p.leader_id, NODE_ID);
        assert_eq!(p.leader_epoch, -1, "v7+");
        assert_eq!(p.replica_nodes, vec![NODE_ID]);
        assert_eq!(p.isr_nodes, vec![NODE_ID]);
    }
}

#[test]
fn metadata_v12_exchange_decodes_with_cluster_and_topic_ids() {
    let (h, req): (_, MetadataRequest) =
        request(include_bytes!("fixtures/metadata_v12_request.bin"));
    request_header(&h, ApiKey::Metadata, 12, 4);
    let topics = req.topics.unwrap();
    assert_eq!(topics.len(), 1);
    assert_eq!(topics[0].topic_id, [0; 16], "asked by name");
    assert_eq!(topics[0].name.as_deref(), Some(TOPIC));
    assert!(!req.allow_auto_topic_creation);
    assert!(!req.include_topic_authorized_operations);

    let (h, r): (_, MetadataResponse) =
        response(include_bytes!("fixtures/metadata_v12_response.bin"), 12);
    assert_eq!(h.correlation_id, 4);
    assert_eq!(r.throttle_time_ms, 0);
    assert_eq!(r.brokers.len(), 1);
    assert_eq!(r.brokers[0].node_id, NODE_ID);
    assert_eq!(r.brokers[0].host, "127.0.0.1");
    assert_eq!(r.brokers[0].port, PORT);
    assert_eq!(r.brokers[0].rack, None);
    assert_eq!(r.cluster_id.as_deref(), Some(CLUSTER_ID));
    assert_eq!(r.controller_id, NODE_ID);
    assert_eq!(r.topics.len(), 1);
    let t = &r.topics[0];
    assert_eq!(t.error_code, ErrorCode::None);
    assert_eq!(t.name.as_deref(), Some(TOPIC));
    assert_eq!(t.topic_id, TOPIC_ID);
    assert!(!t.is_internal);
    assert_eq!(t.topic_authorized_operations, AUTHORIZED_OPERATIONS_OMITTED);
    assert_eq!(t.partitions.len(), 3);
    for (i, p) in t.partitions.iter().enumerate() {
        assert_eq!(p.partition_index, i as i32);
        assert_eq!(p.leader_id, NODE_ID);
        assert_eq!(p.leader_epoch, 0);
        assert_eq!(p.replica_nodes, vec![NODE_ID]);
        assert_eq!(p.isr_nodes, vec![NODE_ID]);
        assert!(p.offline_replicas.is_empty());
    }
    assert_eq!(r.error_code, ErrorCode::None, "v13+");
}

/// The records of the single batch in the single partition of a produce request.
fn produced_records(req: &ProduceRequest) -> Vec<(String, String)> {
    assert_eq!(req.topic_data.len(), 1);
    let partitions = &req.topic_data[0].partition_data;
    assert_eq!(partitions.len(), 1);
    assert_eq!(partitions[0].index, 0);
    let bytes = partitions[0].records.clone().unwrap();
    let batches = RecordBatch::decode_all(bytes, CrcCheck::Verify).unwrap();
    assert_eq!(batches.len(), 1);
    let batch = &batches[0];
    assert_eq!(batch.base_timestamp, 1_700_000_000_000);
    assert_eq!(batch.producer_id, -1);
    batch
        .records
        .iter()
        .map(|r| {
            let text = |b: &Option<Bytes>| String::from_utf8(b.clone().unwrap().to_vec()).unwrap();
            (text(&r.key), text(&r.value))
        })
        .collect()
}

#[test]
fn produce_v9_exchange_decodes_to_base_offset_0() {
    let (h, req): (_, ProduceRequest) = request(include_bytes!("fixtures/produce_v9_request.bin"));
    request_header(&h, ApiKey::Produce, 9, 5);
    assert_eq!(req.acks, -1);
    assert_eq!(req.timeout_ms, 30_000);
    assert_eq!(req.transactional_id, None);
    assert_eq!(req.topic_data[0].name, TOPIC);
    assert_eq!(
        produced_records(&req),
        vec![
            ("key-0".to_owned(), r#"{"n":1}"#.to_owned()),
            ("key-1".to_owned(), r#"{"n":2}"#.to_owned()),
        ]
    );

    let (h, r): (_, ProduceResponse) =
        response(include_bytes!("fixtures/produce_v9_response.bin"), 9);
    assert_eq!(h.correlation_id, 5);
    assert_eq!(r.responses.len(), 1);
    assert_eq!(r.responses[0].name, TOPIC);
    let p = &r.responses[0].partition_responses;
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].index, 0);
    assert_eq!(p[0].error_code, ErrorCode::None);
    assert_eq!(p[0].base_offset, 0);
    assert_eq!(p[0].log_append_time_ms, -1);
    assert_eq!(p[0].log_start_offset, 0);
    assert!(p[0].record_errors.is_empty());
    assert_eq!(p[0].error_message, None);
    assert_eq!(r.throttle_time_ms, 0);
}

#[test]
fn produce_v13_exchange_names_the_topic_by_id_and_continues_at_offset_2() {
    let (h, req): (_, ProduceRequest) = request(include_bytes!("fixtures/produce_v13_request.bin"));
    request_header(&h, ApiKey::Produce, 13, 6);
    assert_eq!(req.topic_data[0].topic_id, TOPIC_ID);
    assert_eq!(req.topic_data[0].name, "", "no name on the wire at v13");
    assert_eq!(
        produced_records(&req),
        vec![("key-0".to_owned(), r#"{"n":3}"#.to_owned())]
    );

    let (h, r): (_, ProduceResponse) =
        response(include_bytes!("fixtures/produce_v13_response.bin"), 13);
    assert_eq!(h.correlation_id, 6);
    assert_eq!(r.responses.len(), 1);
    assert_eq!(r.responses[0].topic_id, TOPIC_ID);
    let p = &r.responses[0].partition_responses;
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].error_code, ErrorCode::None);
    assert_eq!(
        p[0].base_offset, 2,
        "after the two records of the v9 request"
    );
    assert_eq!(p[0].log_start_offset, 0);
    assert_eq!(p[0].current_leader.leader_id, -1, "only sent with errors");
    assert!(r.node_endpoints.is_empty());
}
