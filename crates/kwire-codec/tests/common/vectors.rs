//! Reference vectors of KAFKA-NOTES §3.4 and §4.7, and the messages built around them.

use bytes::Bytes;
use kwire_codec::parse_hex;
use kwire_codec::produce::{
    PartitionProduceData, PartitionProduceResponse, ProduceRequest, ProduceResponse,
    TopicProduceData, TopicProduceResponse,
};
use kwire_codec::ErrorCode;

/// The record timestamp of the reference batches (0x18BCFE56800).
pub const TS: i64 = 1_700_000_000_000;

/// KAFKA-NOTES §4.7 A: key null, value "hi", no headers, 70 bytes, CRC 0xBBCC4115.
pub const BATCH_A: &str = "0000000000000000 0000003a ffffffff 02 bbcc4115 0000 00000000 \
    0000018bcfe56800 0000018bcfe56800 ffffffffffffffff ffff ffffffff 00000001 \
    10 00 00 00 01 04 6869 00";

/// `text` without white space, as [`kwire_codec::hex`] writes it.
pub fn squash(text: &str) -> String {
    text.split_whitespace().collect()
}

/// The bytes `hex_text` spells (white space ignored).
pub fn from_hex(hex_text: &str) -> Bytes {
    Bytes::from(parse_hex(hex_text).expect("valid hex"))
}

/// Batch A as bytes.
pub fn batch_a() -> Bytes {
    from_hex(BATCH_A)
}

/// The Produce request of KAFKA-NOTES §3.4: acks 1, timeout 30 s, batch A for "t"/0.
pub fn produce_request_with_batch_a() -> ProduceRequest {
    ProduceRequest {
        transactional_id: None,
        acks: 1,
        timeout_ms: 30_000,
        topic_data: vec![TopicProduceData {
            name: "t".into(),
            partition_data: vec![PartitionProduceData {
                index: 0,
                records: Some(batch_a()),
                unknown_tagged_fields: vec![],
            }],
            ..Default::default()
        }],
        unknown_tagged_fields: vec![],
    }
}

/// The OK answer of KAFKA-NOTES §3.4 for "t"/0: base offset 42, no append time.
pub fn produce_ok_response(log_start_offset: i64) -> ProduceResponse {
    ProduceResponse {
        responses: vec![TopicProduceResponse {
            name: "t".into(),
            partition_responses: vec![PartitionProduceResponse {
                index: 0,
                error_code: ErrorCode::None,
                base_offset: 42,
                log_append_time_ms: -1,
                log_start_offset,
                ..Default::default()
            }],
            ..Default::default()
        }],
        throttle_time_ms: 0,
        ..Default::default()
    }
}
