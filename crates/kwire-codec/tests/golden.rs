//! Golden bytes: the reference vectors of KAFKA-NOTES §3.4 (frames) and §4.7 (record
//! batches), checked there against kafka-protocol and kafka-python.
//!
//! Each vector is encoded to exactly its bytes and decoded to exactly its values, through
//! the frame API where it is a frame. Vectors already pinned by the unit tests in `src/` are
//! covered here only in the direction those tests leave out (the ApiVersions v4 and Metadata
//! v12 request frames are decoded here, encoded there; batch B is covered there both ways).

mod common;

use bytes::{Bytes, BytesMut};
use common::vectors::{
    batch_a, produce_ok_response, produce_request_with_batch_a, squash, BATCH_A, TS,
};
use kwire_codec::api_versions::{ApiVersion, ApiVersionsRequest, ApiVersionsResponse};
use kwire_codec::header::split_frame;
use kwire_codec::metadata::MetadataRequest;
use kwire_codec::produce::{
    LeaderIdAndEpoch, NodeEndpoint, PartitionProduceResponse, ProduceRequest, ProduceResponse,
    TopicProduceResponse,
};
use kwire_codec::record::{CrcCheck, Record, RecordBatch};
use kwire_codec::{
    encode_request_frame, encode_response_frame, hex, parse_hex, ApiKey, ErrorCode, Message,
    Reader, RequestHeader, ResponseHeader,
};

fn header(api: ApiKey, version: i16, correlation_id: i32) -> RequestHeader {
    RequestHeader {
        request_api_key: api.code(),
        request_api_version: version,
        correlation_id,
        client_id: Some("rk".into()),
        unknown_tagged_fields: vec![],
    }
}

fn request_frame<M: Message>(header: &RequestHeader, body: &M) -> String {
    let mut buf = BytesMut::new();
    encode_request_frame(header, body, &mut buf).unwrap();
    hex(&buf)
}

fn response_frame<M: Message>(correlation_id: i32, body: &M, version: i16) -> String {
    let header = ResponseHeader {
        correlation_id,
        unknown_tagged_fields: vec![],
    };
    let mut buf = BytesMut::new();
    encode_response_frame(&header, body, version, &mut buf).unwrap();
    hex(&buf)
}

/// Splits one whole frame and reads its request header; the reader is left at the body.
fn read_request_frame(wire: &str) -> (RequestHeader, Reader) {
    let mut buf = BytesMut::from(&parse_hex(wire).unwrap()[..]);
    let frame = split_frame(&mut buf, 1 << 20)
        .unwrap()
        .expect("a whole frame");
    assert!(buf.is_empty());
    let mut r = Reader::new(frame);
    let header = RequestHeader::decode(&mut r).unwrap();
    (header, r)
}

/// Splits one whole frame and reads a response header of the version `api` and `version`
/// call for; the reader is left at the body.
fn read_response_frame(wire: &str, api: ApiKey, version: i16) -> (ResponseHeader, Reader) {
    let mut buf = BytesMut::from(&parse_hex(wire).unwrap()[..]);
    let frame = split_frame(&mut buf, 1 << 20)
        .unwrap()
        .expect("a whole frame");
    assert!(buf.is_empty());
    let mut r = Reader::new(frame);
    let header = ResponseHeader::decode(&mut r, api.response_header_version(version)).unwrap();
    (header, r)
}

fn body<M: Message>(r: &mut Reader, version: i16) -> M {
    let out = M::decode_from(r, version).unwrap();
    r.finish("_end").unwrap();
    out
}

// ---------------------------------------------------------------------------------------
// KAFKA-NOTES §3.4: frames

#[test]
fn api_versions_v4_request_frame_decodes_to_its_reference_values() {
    let (h, mut r) =
        read_request_frame("00000015 00120004 00000001 0002726b 00 03726b 04302e31 00");
    assert_eq!(h, header(ApiKey::ApiVersions, 4, 1));
    let req: ApiVersionsRequest = body(&mut r, 4);
    assert_eq!(req.client_software_name, "rk");
    assert_eq!(req.client_software_version, "0.1");
    assert_eq!(req.cluster_id, None);
    assert_eq!(req.node_id, -1);
    assert!(req.unknown_tagged_fields.is_empty());
}

#[test]
fn api_versions_v0_request_frame_matches_the_reference_bytes() {
    let wire = "0000000c 00120000 00000001 0002726b";
    let h = header(ApiKey::ApiVersions, 0, 1);
    assert_eq!(
        request_frame(&h, &ApiVersionsRequest::default()),
        squash(wire)
    );

    let (decoded, mut r) = read_request_frame(wire);
    assert_eq!(decoded, h);
    let req: ApiVersionsRequest = body(&mut r, 0);
    assert_eq!(req, ApiVersionsRequest::default());
}

#[test]
fn api_versions_unsupported_version_answer_frame_is_a_v0_header_and_v0_body() {
    // A 4.1 broker's answer to a v5 request (KAFKA-NOTES §1.5).
    let wire = "00000010 00000001 0023 00000001 0012 0000 0004";
    let answer = ApiVersionsResponse {
        error_code: ErrorCode::UnsupportedVersion,
        api_keys: vec![ApiVersion {
            api_key: 18,
            min_version: 0,
            max_version: 4,
            unknown_tagged_fields: vec![],
        }],
        ..Default::default()
    };
    assert_eq!(response_frame(1, &answer, 0), squash(wire));

    let (h, mut r) = read_response_frame(wire, ApiKey::ApiVersions, 5);
    assert_eq!(h.correlation_id, 1);
    let (decoded, read_as) = ApiVersionsResponse::decode_with_fallback(r.take_rest(), 5).unwrap();
    assert_eq!(read_as, 0);
    assert_eq!(decoded, answer);
    assert_eq!(decoded.range(18), Some((0, 4)));
}

#[test]
fn metadata_v12_request_frame_decodes_to_its_reference_values() {
    let wire = format!(
        "00000024 0003000c 00000002 0002726b 00 02 {} 0274 00 01 00 00",
        "00".repeat(16)
    );
    let (h, mut r) = read_request_frame(&wire);
    assert_eq!(h, header(ApiKey::Metadata, 12, 2));
    let req: MetadataRequest = body(&mut r, 12);
    assert_eq!(req, MetadataRequest::for_topics(&["t"], true));
}

/// The one record of batch A, read back out of a request.
fn assert_holds_batch_a(req: &ProduceRequest) {
    let records = req.topic_data[0].partition_data[0].records.clone().unwrap();
    let batches = RecordBatch::decode_all(records, CrcCheck::Verify).unwrap();
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].base_timestamp, TS);
    assert_eq!(batches[0].crc, 0xbbcc_4115);
    let record = &batches[0].records[0];
    assert_eq!(record.key, None);
    assert_eq!(record.value.as_deref(), Some(&b"hi"[..]));
}

#[test]
fn produce_v9_request_frame_with_batch_a_matches_the_reference_bytes() {
    let wire = squash(&format!(
        "00000066 00000009 00000003 0002726b 00 00 0001 00007530 02 0274 02 00000000 47 {} \
         00 00 00",
        BATCH_A
    ));
    let h = header(ApiKey::Produce, 9, 3);
    let req = produce_request_with_batch_a();
    assert_eq!(request_frame(&h, &req), wire);
    assert_eq!(wire.len() / 2, 106);

    let (decoded_header, mut r) = read_request_frame(&wire);
    assert_eq!(decoded_header, h);
    let decoded: ProduceRequest = body(&mut r, 9);
    assert_eq!(decoded, req);
    assert_holds_batch_a(&decoded);
}

#[test]
fn produce_v3_request_frame_with_batch_a_matches_the_reference_bytes() {
    let wire = squash(&format!(
        "0000006d 00000003 00000004 0002726b ffff 0001 00007530 00000001 000174 \
         00000001 00000000 00000046 {}",
        BATCH_A
    ));
    let h = header(ApiKey::Produce, 3, 4);
    let req = produce_request_with_batch_a();
    assert_eq!(request_frame(&h, &req), wire);
    assert_eq!(wire.len() / 2, 113);

    let (decoded_header, mut r) = read_request_frame(&wire);
    assert_eq!(decoded_header, h);
    let decoded: ProduceRequest = body(&mut r, 3);
    assert_eq!(decoded, req);
    assert_holds_batch_a(&decoded);
}

#[test]
fn produce_v9_ok_response_frame_matches_the_reference_bytes() {
    let wire = "00000030 00000003 00 02 0274 02 00000000 0000 000000000000002a \
                ffffffffffffffff 0000000000000000 01 00 00 00 00000000 00";
    let resp = produce_ok_response(0);
    assert_eq!(response_frame(3, &resp, 9), squash(wire));

    let (h, mut r) = read_response_frame(wire, ApiKey::Produce, 9);
    assert_eq!(h.correlation_id, 3);
    assert!(h.unknown_tagged_fields.is_empty());
    assert_eq!(body::<ProduceResponse>(&mut r, 9), resp);
}

#[test]
fn produce_v3_ok_response_frame_matches_the_reference_bytes() {
    let wire = "00000029 00000004 00000001 000174 00000001 00000000 0000 \
                000000000000002a ffffffffffffffff 00000000";
    // v3 has no log start offset; decoding leaves it at -1.
    let resp = produce_ok_response(-1);
    assert_eq!(response_frame(4, &resp, 3), squash(wire));

    let (h, mut r) = read_response_frame(wire, ApiKey::Produce, 3);
    assert_eq!(h.correlation_id, 4);
    assert_eq!(body::<ProduceResponse>(&mut r, 3), resp);
}

#[test]
fn produce_v10_not_leader_response_frame_matches_the_reference_bytes() {
    let wire = format!(
        "00000052 00000005 00 02 0274 02 00000000 0006 {} 01 00 \
         01 00 09 00000002 00000007 00 00 00000000 \
         01 00 15 02 00000002 0a 3132372e302e302e31 000071a4 00 00",
        "ff".repeat(24)
    );
    let resp = ProduceResponse {
        responses: vec![TopicProduceResponse {
            name: "t".into(),
            partition_responses: vec![PartitionProduceResponse {
                index: 0,
                error_code: ErrorCode::NotLeaderOrFollower,
                base_offset: -1,
                log_append_time_ms: -1,
                log_start_offset: -1,
                current_leader: LeaderIdAndEpoch {
                    leader_id: 2,
                    leader_epoch: 7,
                    unknown_tagged_fields: vec![],
                },
                ..Default::default()
            }],
            ..Default::default()
        }],
        throttle_time_ms: 0,
        node_endpoints: vec![NodeEndpoint {
            node_id: 2,
            host: "127.0.0.1".into(),
            port: 29092,
            rack: None,
            unknown_tagged_fields: vec![],
        }],
        unknown_tagged_fields: vec![],
    };
    assert_eq!(response_frame(5, &resp, 10), squash(&wire));

    let (h, mut r) = read_response_frame(&wire, ApiKey::Produce, 10);
    assert_eq!(h.correlation_id, 5);
    assert_eq!(body::<ProduceResponse>(&mut r, 10), resp);
}

// ---------------------------------------------------------------------------------------
// KAFKA-NOTES §4.7: record batches

#[test]
fn batch_a_decodes_to_its_reference_values_and_encodes_back_from_them() {
    let expected = RecordBatch {
        base_offset: 0,
        partition_leader_epoch: -1,
        crc: 0xbbcc_4115,
        attributes: 0,
        last_offset_delta: 0,
        base_timestamp: TS,
        max_timestamp: TS,
        producer_id: -1,
        producer_epoch: -1,
        base_sequence: -1,
        records: vec![Record {
            attributes: 0,
            timestamp_delta: 0,
            offset_delta: 0,
            key: None,
            value: Some(Bytes::from_static(b"hi")),
            headers: vec![],
        }],
    };
    let decoded = RecordBatch::decode_all(batch_a(), CrcCheck::Verify).unwrap();
    assert_eq!(decoded, vec![expected.clone()]);

    let mut buf = BytesMut::new();
    expected.encode(&mut buf).unwrap();
    assert_eq!(hex(&buf), hex(&batch_a()));
}
