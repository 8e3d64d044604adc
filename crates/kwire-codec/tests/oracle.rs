//! Differential tests against an independent implementation, the `kafka-protocol` crate
//! (0.18.0, generated from the same Kafka JSON schemas as the Java client).
//!
//! For generated values of every message at every version both support:
//!
//! - kwire encodes; kafka-protocol decodes every byte, gives the same field values, and
//!   re-encodes exactly the same bytes;
//! - kafka-protocol encodes the same value to the same bytes, and kwire decodes them back to
//!   the value.
//!
//! Record batches are compared the same way, record by record and field by field.
//!
//! Where the two disagree, the Kafka schema decides (`clients/src/main/resources/common/
//! message/*.json`, as shipped in kafka-clients 4.4.0). The disagreements found are pinned by
//! the named tests at the end, each saying which kafka-protocol quirk it documents; the
//! generators stay clear of those inputs (see [`common::Flavor::Oracle`]).
//!
//! kafka-protocol stops at ApiVersions v4; ApiVersions v5 (Kafka 4.4) is covered by the
//! round-trip properties only.

mod common;
mod oracle_model;

use std::fmt::Debug;

use bytes::{Buf, Bytes, BytesMut};
use common::{config, versioned, Flavor};
use kafka_protocol::messages as kp;
use kafka_protocol::protocol::{Decodable, Encodable};
use kafka_protocol::records::{
    Compression as KpCompression, Record as KpRecord, RecordBatchDecoder, RecordBatchEncoder,
    RecordEncodeOptions, TimestampType,
};
use kwire_codec::api_versions::ApiVersionsResponse;
use kwire_codec::metadata::MetadataRequest;
use kwire_codec::produce::{PartitionProduceResponse, ProduceResponse, TopicProduceResponse};
use kwire_codec::record::{CrcCheck, RecordBatch, RecordHeader};
use kwire_codec::{
    hex, parse_hex, DecodeErrorKind, Message, RawTaggedField, Reader, RequestHeader, ResponseHeader,
};
use oracle_model::*;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const ORACLE: Flavor = Flavor::Oracle;

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(format!("{e:#}"))
}

// ---------------------------------------------------------------------------------------
// The differential check

fn encode<M: Message>(value: &M, version: i16) -> Result<Bytes, TestCaseError> {
    let mut buf = BytesMut::new();
    value.encode(version, &mut buf).map_err(fail)?;
    Ok(buf.freeze())
}

fn oracle_encode<O: Encodable>(value: &O, version: i16) -> Result<Bytes, TestCaseError> {
    let mut buf = BytesMut::new();
    value
        .encode(&mut buf, version)
        .map_err(|e| fail(format!("kafka-protocol encode: {e:#}")))?;
    let size = value
        .compute_size(version)
        .map_err(|e| fail(format!("kafka-protocol size: {e:#}")))?;
    prop_assert_eq!(
        size,
        buf.len(),
        "kafka-protocol's compute_size disagrees with itself"
    );
    Ok(buf.freeze())
}

fn oracle_decode<O: Decodable>(bytes: &Bytes, version: i16) -> Result<O, TestCaseError> {
    let mut buf = bytes.clone();
    let value =
        O::decode(&mut buf, version).map_err(|e| fail(format!("kafka-protocol decode: {e:#}")))?;
    prop_assert_eq!(buf.remaining(), 0, "kafka-protocol left bytes unread");
    Ok(value)
}

/// kwire and kafka-protocol agree on `value` at `version`, byte for byte and field by field.
fn agree<M, O>(
    value: &M,
    version: i16,
    to: fn(&M, i16) -> O,
    from: fn(&O, i16) -> M,
) -> Result<(), TestCaseError>
where
    M: Message + PartialEq + Debug,
    O: Encodable + Decodable + Debug,
{
    let ours = encode(value, version)?;
    let theirs: O = oracle_decode(&ours, version)?;
    prop_assert_eq!(
        &from(&theirs, version),
        value,
        "kafka-protocol read other values"
    );
    let re_encoded = oracle_encode(&theirs, version)?;
    prop_assert_eq!(
        hex(&re_encoded),
        hex(&ours),
        "kafka-protocol re-encoded other bytes"
    );

    let direct = oracle_encode(&to(value, version), version)?;
    prop_assert_eq!(
        hex(&direct),
        hex(&ours),
        "kafka-protocol encodes the value otherwise"
    );
    let decoded = M::decode(direct, version).map_err(fail)?;
    prop_assert_eq!(&decoded, value);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Record batches

const UNCOMPRESSED: RecordEncodeOptions = RecordEncodeOptions {
    version: 2,
    compression: KpCompression::None,
};

fn batch_agrees(batch: &RecordBatch) -> Result<(), TestCaseError> {
    let mut buf = BytesMut::new();
    batch.encode(&mut buf).map_err(fail)?;
    let ours = buf.freeze();

    // kafka-protocol reads kwire's batch record by record, field by field.
    let mut input = ours.clone();
    let set = RecordBatchDecoder::decode(&mut input).map_err(|e| fail(format!("{e:#}")))?;
    prop_assert_eq!(input.remaining(), 0);
    prop_assert_eq!(set.version, 2);
    prop_assert_eq!(set.compression, KpCompression::None);
    prop_assert_eq!(set.records.len(), batch.records.len());
    for (theirs, ours) in set.records.iter().zip(&batch.records) {
        prop_assert_eq!(
            theirs.offset,
            batch.base_offset + i64::from(ours.offset_delta)
        );
        prop_assert_eq!(
            theirs.timestamp,
            batch.base_timestamp + ours.timestamp_delta
        );
        prop_assert_eq!(
            theirs.sequence,
            batch.base_sequence.wrapping_add(ours.offset_delta)
        );
        prop_assert_eq!(theirs.partition_leader_epoch, batch.partition_leader_epoch);
        prop_assert_eq!(theirs.producer_id, batch.producer_id);
        prop_assert_eq!(theirs.producer_epoch, batch.producer_epoch);
        prop_assert_eq!(theirs.transactional, flag(batch.attributes, 4));
        prop_assert_eq!(theirs.control, flag(batch.attributes, 5));
        prop_assert_eq!(theirs.delete_horizon, flag(batch.attributes, 6));
        prop_assert_eq!(theirs.timestamp_type, TimestampType::Creation);
        prop_assert_eq!(&theirs.key, &ours.key);
        prop_assert_eq!(&theirs.value, &ours.value);
        prop_assert_eq!(headers_from(theirs), ours.headers.clone());
    }
    prop_assert_eq!(&set.records, &records_to(batch));

    // ... and writes it back to the same bytes, CRC included.
    let mut again = BytesMut::new();
    RecordBatchEncoder::encode(&mut again, &set.records, &UNCOMPRESSED)
        .map_err(|e| fail(format!("{e:#}")))?;
    prop_assert_eq!(hex(&again), hex(&ours));

    // kwire reads kafka-protocol's encoding of the same records back to the batch.
    let mut theirs = BytesMut::new();
    RecordBatchEncoder::encode(&mut theirs, &records_to(batch), &UNCOMPRESSED)
        .map_err(|e| fail(format!("{e:#}")))?;
    let decoded = RecordBatch::decode_all(theirs.freeze(), CrcCheck::Verify).map_err(fail)?;
    prop_assert_eq!(decoded.len(), 1);
    let expected = RecordBatch {
        crc: decoded[0].crc,
        ..batch.clone()
    };
    prop_assert_eq!(&decoded[0], &expected);
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn request_headers_agree_with_kafka_protocol(
        (hv, header) in (1i16..=2)
            .prop_flat_map(|hv| (Just(hv), common::request_header(hv, ORACLE)))
    ) {
        let mut buf = BytesMut::new();
        header.encode(hv, &mut buf).map_err(fail)?;
        let ours = buf.freeze();
        let theirs: kp::RequestHeader = oracle_decode(&ours, hv)?;
        prop_assert_eq!(request_header_from(&theirs), header.clone());
        prop_assert_eq!(hex(&oracle_encode(&theirs, hv)?), hex(&ours));
        let direct = oracle_encode(&request_header_to(&header), hv)?;
        prop_assert_eq!(hex(&direct), hex(&ours));
        let mut r = Reader::new(direct);
        prop_assert_eq!(RequestHeader::decode(&mut r).map_err(fail)?, header);
        r.finish("_end").map_err(fail)?;
    }

    #[test]
    fn response_headers_agree_with_kafka_protocol(
        (hv, header) in (0i16..=1)
            .prop_flat_map(|hv| (Just(hv), common::response_header(hv, ORACLE)))
    ) {
        let mut buf = BytesMut::new();
        header.encode(hv, &mut buf);
        let ours = buf.freeze();
        let theirs: kp::ResponseHeader = oracle_decode(&ours, hv)?;
        prop_assert_eq!(response_header_from(&theirs), header.clone());
        prop_assert_eq!(hex(&oracle_encode(&theirs, hv)?), hex(&ours));
        let direct = oracle_encode(&response_header_to(&header), hv)?;
        prop_assert_eq!(hex(&direct), hex(&ours));
        let mut r = Reader::new(direct);
        prop_assert_eq!(ResponseHeader::decode(&mut r, hv).map_err(fail)?, header);
        r.finish("_end").map_err(fail)?;
    }

    #[test]
    fn api_versions_requests_agree_with_kafka_protocol_at_v0_to_v4(
        (v, value) in versioned(0, 4, ORACLE, common::messages::api_versions_request)
    ) {
        agree(&value, v, api_versions_request_to, api_versions_request_from)?;
    }

    #[test]
    fn api_versions_responses_agree_with_kafka_protocol_at_v0_to_v4(
        (v, value) in versioned(0, 4, ORACLE, common::messages::api_versions_response)
    ) {
        agree(&value, v, api_versions_response_to, api_versions_response_from)?;
    }

    #[test]
    fn metadata_requests_agree_with_kafka_protocol_at_every_version(
        (v, value) in versioned(0, 13, ORACLE, common::messages::metadata_request)
    ) {
        agree(&value, v, metadata_request_to, metadata_request_from)?;
    }

    #[test]
    fn metadata_responses_agree_with_kafka_protocol_at_every_version(
        (v, value) in versioned(0, 13, ORACLE, common::messages::metadata_response)
    ) {
        agree(&value, v, metadata_response_to, metadata_response_from)?;
    }

    #[test]
    fn produce_requests_agree_with_kafka_protocol_at_every_version(
        (v, value) in versioned(3, 13, ORACLE, common::messages::produce_request)
    ) {
        agree(&value, v, produce_request_to, produce_request_from)?;
    }

    #[test]
    fn produce_responses_agree_with_kafka_protocol_at_every_version(
        (v, value) in versioned(3, 13, ORACLE, common::messages::produce_response)
    ) {
        agree(&value, v, produce_response_to, produce_response_from)?;
    }

    #[test]
    fn record_batches_agree_with_kafka_protocol_record_by_record(
        batch in common::records::canonical_record_batch()
    ) {
        batch_agrees(&batch)?;
    }
}

// ---------------------------------------------------------------------------------------
// Disagreements, each settled by the schema. The generators avoid these inputs.

fn body<M: Message>(value: &M, version: i16) -> Bytes {
    let mut buf = BytesMut::new();
    value.encode(version, &mut buf).unwrap();
    buf.freeze()
}

/// MetadataRequest.json: `Topics` has `"nullableVersions": "1+"`, so v0 has no null array;
/// a v0 request asks for all topics with an empty one. kafka-protocol writes -1 anyway.
#[test]
fn kafka_protocol_writes_a_null_topic_array_at_metadata_v0_which_the_schema_does_not_allow() {
    let mut all_topics = kp::MetadataRequest::default();
    all_topics.topics = None;
    let mut theirs = BytesMut::new();
    all_topics.encode(&mut theirs, 0).unwrap();
    assert_eq!(hex(&theirs), "ffffffff");

    let err = MetadataRequest::decode(theirs.freeze(), 0).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::UnexpectedNull);
    assert_eq!(err.field, "topics");

    assert_eq!(hex(&body(&MetadataRequest::default(), 0)), "00000000");
}

/// ProduceResponse.json: `CurrentLeader` is tag 0 with `"taggedVersions": "10+"`, so at v9
/// tag 0 is an unknown tag, which a reader skips (KIP-482). kwire keeps it as a raw field.
/// kafka-protocol refuses it ("Tag 0 is not valid for version 9"), as Java's generated
/// reader does (`ProduceResponseData$PartitionProduceResponse.read` in kafka-clients 4.4.0
/// throws); no broker sends it, so only leniency differs.
#[test]
fn tag_0_of_a_v9_produce_partition_is_kept_raw_by_kwire_and_refused_by_kafka_protocol() {
    let leader = Bytes::from(parse_hex("00000002 00000007 00").unwrap());
    let response = ProduceResponse {
        responses: vec![TopicProduceResponse {
            name: "t".into(),
            partition_responses: vec![PartitionProduceResponse {
                unknown_tagged_fields: vec![RawTaggedField {
                    tag: 0,
                    data: leader,
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let bytes = body(&response, 9);

    let decoded = ProduceResponse::decode(bytes.clone(), 9).unwrap();
    assert_eq!(decoded, response);
    assert_eq!(body(&decoded, 9), bytes);

    let err = kp::ProduceResponse::decode(&mut bytes.clone(), 9).unwrap_err();
    assert!(format!("{err:#}").contains("Tag 0 is not valid for version 9"));
}

/// ApiVersionsResponse.json: `FinalizedFeaturesEpoch` (tag 1) defaults to -1 and Kafka does
/// not write a default. A peer that writes it anyway is still valid; kwire keeps the field
/// raw so that the bytes re-encode unchanged, kafka-protocol (like Java) drops it.
#[test]
fn a_default_valued_tagged_field_is_kept_by_kwire_and_dropped_by_kafka_protocol() {
    // error 0, no api keys, throttle 0, one tagged field: tag 1, 8 bytes, -1.
    let bytes = Bytes::from(parse_hex("0000 01 00000000 01 01 08 ffffffffffffffff").unwrap());

    let ours = ApiVersionsResponse::decode(bytes.clone(), 3).unwrap();
    assert_eq!(ours.finalized_features_epoch, -1);
    assert_eq!(ours.unknown_tagged_fields.len(), 1);
    assert_eq!(ours.unknown_tagged_fields[0].tag, 1);
    assert_eq!(body(&ours, 3), bytes);

    let theirs = kp::ApiVersionsResponse::decode(&mut bytes.clone(), 3).unwrap();
    assert_eq!(theirs.finalized_features_epoch, -1);
    assert!(theirs.unknown_tagged_fields.is_empty());
    let mut again = BytesMut::new();
    theirs.encode(&mut again, 3).unwrap();
    assert_eq!(hex(&again), "0000010000000000");
}

/// Tags are UNSIGNED_VARINTs (KIP-482), so 2^31 is a valid tag. kafka-protocol keeps unknown
/// tags as `i32` keys; 2^31 becomes negative, is counted but not written back, and the
/// re-encoded header claims one tagged field and carries none.
#[test]
fn kafka_protocol_loses_an_unknown_tag_above_i32_max() {
    let header = ResponseHeader {
        correlation_id: 7,
        unknown_tagged_fields: vec![RawTaggedField {
            tag: 1 << 31,
            data: Bytes::from_static(b"x"),
        }],
    };
    let mut buf = BytesMut::new();
    header.encode(1, &mut buf);
    assert_eq!(hex(&buf), "00000007 01 8080808008 01 78".replace(' ', ""));
    let mut r = Reader::new(buf.clone().freeze());
    assert_eq!(ResponseHeader::decode(&mut r, 1).unwrap(), header);

    let theirs = kp::ResponseHeader::decode(&mut buf.clone().freeze(), 1).unwrap();
    let mut again = BytesMut::new();
    theirs.encode(&mut again, 1).unwrap();
    assert_eq!(hex(&again), "0000000701");
}

fn batch_with_headers(headers: Vec<RecordHeader>, attributes: i16, record_attributes: i8) -> Bytes {
    let batch = RecordBatch {
        attributes,
        last_offset_delta: 0,
        base_timestamp: 1_700_000_000_000,
        max_timestamp: 1_700_000_000_000,
        records: vec![kwire_codec::record::Record {
            attributes: record_attributes,
            value: Some(Bytes::from_static(b"v")),
            headers,
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut buf = BytesMut::new();
    batch.encode(&mut buf).unwrap();
    buf.freeze()
}

fn kafka_protocol_round_trip(batch: &Bytes) -> (Vec<KpRecord>, Bytes) {
    let set = RecordBatchDecoder::decode(&mut batch.clone()).unwrap();
    let mut again = BytesMut::new();
    RecordBatchEncoder::encode(&mut again, &set.records, &UNCOMPRESSED).unwrap();
    (set.records, again.freeze())
}

/// DefaultRecord.java writes headers as an array, and KIP-82 allows a key to repeat; kwire
/// keeps every header in order. kafka-protocol stores them in a map, keeping one value per
/// key (the last one, at the first one's place).
#[test]
fn kafka_protocol_keeps_one_header_per_key_where_the_record_format_keeps_all() {
    let headers = vec![
        RecordHeader {
            key: "a".into(),
            value: Some(Bytes::from_static(b"1")),
        },
        RecordHeader {
            key: "a".into(),
            value: None,
        },
        RecordHeader {
            key: "b".into(),
            value: Some(Bytes::from_static(b"2")),
        },
    ];
    let bytes = batch_with_headers(headers.clone(), 0, 0);
    let ours = RecordBatch::decode_all(bytes.clone(), CrcCheck::Verify).unwrap();
    assert_eq!(ours[0].records[0].headers, headers);

    let (records, again) = kafka_protocol_round_trip(&bytes);
    assert_eq!(
        headers_from(&records[0]),
        vec![
            RecordHeader {
                key: "a".into(),
                value: None
            },
            headers[2].clone()
        ]
    );
    assert_ne!(again, bytes);
}

/// DefaultRecordBatch.java: attribute bit 3 is the timestamp type (LogAppendTime when set),
/// and each record has its own attributes byte (unused, but on the wire). kafka-protocol
/// reads bit 3 as `TimestampType::LogAppend` but never writes it, and writes every record's
/// attributes as 0, so its re-encoding of such a batch differs from the input.
#[test]
fn kafka_protocol_rewrites_the_timestamp_type_bit_and_record_attributes_as_zero() {
    let bytes = batch_with_headers(Vec::new(), 0x08, 0);
    let (records, again) = kafka_protocol_round_trip(&bytes);
    assert_eq!(records[0].timestamp_type, TimestampType::LogAppend);
    assert_eq!(bytes[22], 0x08);
    assert_eq!(again[22], 0x00);
    let ours = RecordBatch::decode_all(bytes.clone(), CrcCheck::Verify).unwrap();
    assert_eq!(ours[0].attributes, 0x08);

    let bytes = batch_with_headers(Vec::new(), 0, 5);
    let ours = RecordBatch::decode_all(bytes.clone(), CrcCheck::Verify).unwrap();
    assert_eq!(ours[0].records[0].attributes, 5);
    let (_, again) = kafka_protocol_round_trip(&bytes);
    // The record's attributes byte follows its length varint, right after the batch header.
    assert_eq!(bytes[62], 5);
    assert_eq!(again[62], 0);
}
