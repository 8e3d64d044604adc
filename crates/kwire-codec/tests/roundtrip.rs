//! Property tests: every message at every version survives encode → decode → encode.
//!
//! For a generated value `v` of version `ver`, holding only what `ver` can carry:
//!
//! - `decode(encode(v))` equals `v` (nothing is lost or invented);
//! - `encode(decode(bytes))` gives `bytes` again, and decoding those gives the same value
//!   (decode → encode is the identity on accepted input).
//!
//! Then robustness: decoding arbitrary bytes, and valid encodings with a few bytes flipped,
//! inserted, deleted or cut off, never panics, and whatever is accepted re-encodes to exactly
//! the input. That is the promise of the strict decoder (canonical varints and booleans only,
//! default-valued tagged fields kept raw).

mod common;

use std::fmt::Debug;

use bytes::{Bytes, BytesMut};
use common::{config, versioned, Flavor};
use kwire_codec::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use kwire_codec::header::split_frame;
use kwire_codec::metadata::{MetadataRequest, MetadataResponse};
use kwire_codec::produce::{ProduceRequest, ProduceResponse};
use kwire_codec::record::{CrcCheck, RecordBatch};
use kwire_codec::{
    encode_request_frame, encode_response_frame, hex, ApiKey, Message, Reader, RequestHeader,
    ResponseHeader,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const SCHEMA: Flavor = Flavor::Schema;

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

fn encode<M: Message>(value: &M, version: i16) -> Result<Bytes, TestCaseError> {
    let mut buf = BytesMut::new();
    value.encode(version, &mut buf).map_err(fail)?;
    Ok(buf.freeze())
}

/// The two round-trip properties for one value.
fn round_trips<M: Message + PartialEq + Debug>(
    value: &M,
    version: i16,
) -> Result<(), TestCaseError> {
    let bytes = encode(value, version)?;
    let decoded = M::decode(bytes.clone(), version).map_err(fail)?;
    prop_assert_eq!(&decoded, value, "decode(encode(v)) != v at v{}", version);

    let again = encode(&decoded, version)?;
    prop_assert_eq!(hex(&again), hex(&bytes), "re-encoding changed the bytes");
    let decoded_again = M::decode(again, version).map_err(fail)?;
    prop_assert_eq!(&decoded_again, &decoded);
    Ok(())
}

/// Decoding `input` must not panic; if it succeeds, re-encoding gives `input` exactly.
fn accepted_input_re_encodes<M: Message + Debug>(
    input: &[u8],
    version: i16,
) -> Result<(), TestCaseError> {
    let Ok(message) = M::decode(Bytes::copy_from_slice(input), version) else {
        return Ok(());
    };
    let out = encode(&message, version)?;
    prop_assert_eq!(hex(&out), hex(input), "accepted {:?}", message);
    Ok(())
}

fn request_header_input_re_encodes(input: &[u8]) -> Result<(), TestCaseError> {
    let mut r = Reader::new(Bytes::copy_from_slice(input));
    let Ok(header) = RequestHeader::decode(&mut r) else {
        return Ok(());
    };
    let header_version = ApiKey::from_code(header.request_api_key)
        .map_or(1, |k| k.request_header_version(header.request_api_version));
    let mut out = BytesMut::new();
    header.encode(header_version, &mut out).map_err(fail)?;
    prop_assert_eq!(hex(&out), hex(&input[..r.position()]));
    Ok(())
}

fn response_header_input_re_encodes(input: &[u8]) -> Result<(), TestCaseError> {
    for header_version in [0, 1] {
        let mut r = Reader::new(Bytes::copy_from_slice(input));
        if let Ok(header) = ResponseHeader::decode(&mut r, header_version) {
            let mut out = BytesMut::new();
            header.encode(header_version, &mut out);
            prop_assert_eq!(hex(&out), hex(&input[..r.position()]));
        }
    }
    Ok(())
}

/// Batches decoded with the CRC checked re-encode exactly; decoded without the check, they
/// re-encode exactly apart from the CRC, which encoding recomputes. Compressed batches
/// (decodable with the compression features) are left out: compressors are free to write
/// the same records differently.
fn batch_input_re_encodes(input: &[u8]) -> Result<(), TestCaseError> {
    let bytes = Bytes::copy_from_slice(input);
    let compressed = |batches: &[RecordBatch]| batches.iter().any(|b| b.attributes & 0x07 != 0);
    if let Ok(batches) = RecordBatch::decode_all(bytes.clone(), CrcCheck::Verify) {
        if compressed(&batches) {
            return Ok(());
        }
        let mut out = BytesMut::new();
        for b in &batches {
            b.encode(&mut out).map_err(fail)?;
        }
        prop_assert_eq!(hex(&out), hex(input));
    }
    if let Ok(batches) = RecordBatch::decode_all(bytes, CrcCheck::Skip) {
        if compressed(&batches) {
            return Ok(());
        }
        let mut out = BytesMut::new();
        let mut expected = input.to_vec();
        for b in &batches {
            let start = out.len();
            b.encode(&mut out).map_err(fail)?;
            prop_assert!(out.len() <= expected.len());
            expected[start + 17..start + 21].copy_from_slice(&out[start + 17..start + 21]);
        }
        prop_assert_eq!(hex(&out), hex(&expected));
    }
    Ok(())
}

/// Every decoder that exists for `version`, on the same input.
fn every_decoder_accepts_only_what_re_encodes(
    input: &[u8],
    version: i16,
) -> Result<(), TestCaseError> {
    accepted_input_re_encodes::<ApiVersionsRequest>(input, version)?;
    accepted_input_re_encodes::<ApiVersionsResponse>(input, version)?;
    accepted_input_re_encodes::<MetadataRequest>(input, version)?;
    accepted_input_re_encodes::<MetadataResponse>(input, version)?;
    accepted_input_re_encodes::<ProduceRequest>(input, version)?;
    accepted_input_re_encodes::<ProduceResponse>(input, version)?;
    request_header_input_re_encodes(input)?;
    response_header_input_re_encodes(input)?;
    batch_input_re_encodes(input)
}

/// A small edit of a valid encoding: the kind of damage that reaches length prefixes,
/// varints, booleans and tag numbers.
#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let byte = prop_oneof![
        Just(0x00u8),
        Just(0x01),
        Just(0x7f),
        Just(0x80),
        Just(0xff),
        any::<u8>()
    ];
    let edit = prop_oneof![
        4 => (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Set(i, b)),
        2 => (any::<usize>(), byte).prop_map(|(i, b)| Edit::Insert(i, b)),
        2 => any::<usize>().prop_map(Edit::Delete),
        1 => any::<usize>().prop_map(Edit::Truncate),
    ];
    vec(edit, 1..=3)
}

fn apply(bytes: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for edit in edits {
        let len = out.len();
        match *edit {
            Edit::Set(i, b) if len > 0 => out[i % len] = b,
            Edit::Insert(i, b) => out.insert(i % (len + 1), b),
            Edit::Delete(i) if len > 0 => {
                out.remove(i % len);
            }
            Edit::Truncate(i) => out.truncate(i % (len + 1)),
            _ => {}
        }
    }
    out
}

/// Recomputes a single batch's CRC after an edit, so that the edit is judged by the record
/// decoder rather than stopped by the CRC check.
fn fix_crc(batch: &mut [u8]) {
    if batch.len() >= 21 {
        let crc = crc32c::crc32c(&batch[21..]);
        batch[17..21].copy_from_slice(&crc.to_be_bytes());
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn request_headers_round_trip_at_v1_and_v2(
        (header_version, header) in (1i16..=2)
            .prop_flat_map(|hv| (Just(hv), common::request_header(hv, SCHEMA)))
    ) {
        let mut buf = BytesMut::new();
        header.encode(header_version, &mut buf).map_err(fail)?;
        let mut r = Reader::new(buf.clone().freeze());
        let decoded = RequestHeader::decode(&mut r).map_err(fail)?;
        r.finish("_end").map_err(fail)?;
        prop_assert_eq!(&decoded, &header);
        let mut again = BytesMut::new();
        decoded.encode(header_version, &mut again).map_err(fail)?;
        prop_assert_eq!(hex(&again), hex(&buf));
    }

    #[test]
    fn response_headers_round_trip_at_v0_and_v1(
        (header_version, header) in (0i16..=1)
            .prop_flat_map(|hv| (Just(hv), common::response_header(hv, SCHEMA)))
    ) {
        let mut buf = BytesMut::new();
        header.encode(header_version, &mut buf);
        let mut r = Reader::new(buf.clone().freeze());
        let decoded = ResponseHeader::decode(&mut r, header_version).map_err(fail)?;
        r.finish("_end").map_err(fail)?;
        prop_assert_eq!(&decoded, &header);
        let mut again = BytesMut::new();
        decoded.encode(header_version, &mut again);
        prop_assert_eq!(hex(&again), hex(&buf));
    }

    #[test]
    fn api_versions_requests_round_trip_at_every_version(
        (v, value) in versioned(0, 5, SCHEMA, common::messages::api_versions_request)
    ) {
        round_trips(&value, v)?;
    }

    #[test]
    fn api_versions_responses_round_trip_at_every_version(
        (v, value) in versioned(0, 5, SCHEMA, common::messages::api_versions_response)
    ) {
        round_trips(&value, v)?;
    }

    #[test]
    fn metadata_requests_round_trip_at_every_version(
        (v, value) in versioned(0, 13, SCHEMA, common::messages::metadata_request)
    ) {
        round_trips(&value, v)?;
    }

    #[test]
    fn metadata_responses_round_trip_at_every_version(
        (v, value) in versioned(0, 13, SCHEMA, common::messages::metadata_response)
    ) {
        round_trips(&value, v)?;
    }

    #[test]
    fn produce_requests_round_trip_at_every_version(
        (v, value) in versioned(3, 13, SCHEMA, common::messages::produce_request)
    ) {
        round_trips(&value, v)?;
    }

    #[test]
    fn produce_responses_round_trip_at_every_version(
        (v, value) in versioned(3, 13, SCHEMA, common::messages::produce_response)
    ) {
        round_trips(&value, v)?;
    }

    #[test]
    fn record_batches_round_trip_with_their_records_and_headers(
        batch in common::records::record_batch()
    ) {
        let mut buf = BytesMut::new();
        batch.encode(&mut buf).map_err(fail)?;
        let bytes = buf.freeze();
        let decoded = RecordBatch::decode_all(bytes.clone(), CrcCheck::Verify).map_err(fail)?;
        prop_assert_eq!(decoded.len(), 1);
        let decoded = &decoded[0];
        prop_assert_eq!(decoded.crc, crc32c::crc32c(&bytes[21..]));
        let expected = RecordBatch { crc: decoded.crc, ..batch };
        prop_assert_eq!(decoded, &expected);

        let mut again = BytesMut::new();
        decoded.encode(&mut again).map_err(fail)?;
        prop_assert_eq!(hex(&again), hex(&bytes));
    }

    #[test]
    fn request_frames_carry_header_and_body_for_every_api(
        (api, v, body) in prop_oneof![
            versioned(0, 5, SCHEMA, common::messages::api_versions_request)
                .prop_map(|(v, b)| (18i16, v, encode(&b, v).unwrap())),
            versioned(0, 13, SCHEMA, common::messages::metadata_request)
                .prop_map(|(v, b)| (3i16, v, encode(&b, v).unwrap())),
            versioned(3, 13, SCHEMA, common::messages::produce_request)
                .prop_map(|(v, b)| (0i16, v, encode(&b, v).unwrap())),
        ],
        correlation_id in any::<i32>(),
        client_id in option::of(common::text()),
        tags in common::unknown_tags(true, &[], SCHEMA),
    ) {
        let key = ApiKey::from_code(api).unwrap();
        let header = RequestHeader {
            request_api_key: api,
            request_api_version: v,
            correlation_id,
            client_id,
            unknown_tagged_fields: if key.request_header_version(v) >= 2 { tags } else { vec![] },
        };
        match key {
            ApiKey::ApiVersions => request_frame_round_trips::<ApiVersionsRequest>(&header, body)?,
            ApiKey::Metadata => request_frame_round_trips::<MetadataRequest>(&header, body)?,
            _ => request_frame_round_trips::<ProduceRequest>(&header, body)?,
        }
    }

    #[test]
    fn response_frames_carry_header_and_body_for_every_api(
        (api, v, body) in prop_oneof![
            versioned(0, 5, SCHEMA, common::messages::api_versions_response)
                .prop_map(|(v, b)| (18i16, v, encode(&b, v).unwrap())),
            versioned(0, 13, SCHEMA, common::messages::metadata_response)
                .prop_map(|(v, b)| (3i16, v, encode(&b, v).unwrap())),
            versioned(3, 13, SCHEMA, common::messages::produce_response)
                .prop_map(|(v, b)| (0i16, v, encode(&b, v).unwrap())),
        ],
        correlation_id in any::<i32>(),
        tags in common::unknown_tags(true, &[], SCHEMA),
    ) {
        let key = ApiKey::from_code(api).unwrap();
        let header = ResponseHeader {
            correlation_id,
            unknown_tagged_fields: if key.response_header_version(v) >= 1 { tags } else { vec![] },
        };
        match key {
            ApiKey::ApiVersions => {
                response_frame_round_trips::<ApiVersionsResponse>(&header, body, v)?
            }
            ApiKey::Metadata => response_frame_round_trips::<MetadataResponse>(&header, body, v)?,
            _ => response_frame_round_trips::<ProduceResponse>(&header, body, v)?,
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_a_decoder_and_accepted_bytes_re_encode_identically(
        input in vec(any::<u8>(), 0..80),
        version in -1i16..=14,
    ) {
        every_decoder_accepts_only_what_re_encodes(&input, version)?;
    }

    #[test]
    fn edited_api_versions_bodies_are_rejected_or_re_encode_identically(
        (v, value) in versioned(0, 5, SCHEMA, common::messages::api_versions_response),
        (rv, request) in versioned(0, 5, SCHEMA, common::messages::api_versions_request),
        edits in edits(),
    ) {
        accepted_input_re_encodes::<ApiVersionsResponse>(&apply(&encode(&value, v)?, &edits), v)?;
        accepted_input_re_encodes::<ApiVersionsRequest>(&apply(&encode(&request, rv)?, &edits), rv)?;
    }

    #[test]
    fn edited_metadata_bodies_are_rejected_or_re_encode_identically(
        (v, value) in versioned(0, 13, SCHEMA, common::messages::metadata_response),
        (rv, request) in versioned(0, 13, SCHEMA, common::messages::metadata_request),
        edits in edits(),
    ) {
        accepted_input_re_encodes::<MetadataResponse>(&apply(&encode(&value, v)?, &edits), v)?;
        accepted_input_re_encodes::<MetadataRequest>(&apply(&encode(&request, rv)?, &edits), rv)?;
    }

    #[test]
    fn edited_produce_bodies_are_rejected_or_re_encode_identically(
        (v, value) in versioned(3, 13, SCHEMA, common::messages::produce_response),
        (rv, request) in versioned(3, 13, SCHEMA, common::messages::produce_request),
        edits in edits(),
    ) {
        accepted_input_re_encodes::<ProduceResponse>(&apply(&encode(&value, v)?, &edits), v)?;
        accepted_input_re_encodes::<ProduceRequest>(&apply(&encode(&request, rv)?, &edits), rv)?;
    }

    #[test]
    fn edited_headers_are_rejected_or_re_encode_identically(
        (hv, header) in (1i16..=2)
            .prop_flat_map(|hv| (Just(hv), common::request_header(hv, SCHEMA))),
        response in common::response_header(1, SCHEMA),
        edits in edits(),
    ) {
        let mut buf = BytesMut::new();
        header.encode(hv, &mut buf).map_err(fail)?;
        request_header_input_re_encodes(&apply(&buf, &edits))?;
        let mut buf = BytesMut::new();
        response.encode(1, &mut buf);
        response_header_input_re_encodes(&apply(&buf, &edits))?;
    }

    #[test]
    fn edited_record_batches_are_rejected_or_re_encode_identically(
        batch in common::records::record_batch(),
        edits in edits(),
        recompute_crc in any::<bool>(),
    ) {
        let mut buf = BytesMut::new();
        batch.encode(&mut buf).map_err(fail)?;
        let mut input = apply(&buf, &edits);
        if recompute_crc {
            fix_crc(&mut input);
        }
        batch_input_re_encodes(&input)?;
    }
}

fn request_frame_round_trips<M: Message + PartialEq + Debug>(
    header: &RequestHeader,
    body_bytes: Bytes,
) -> Result<(), TestCaseError> {
    let v = header.request_api_version;
    let body = M::decode(body_bytes.clone(), v).map_err(fail)?;
    let mut buf = BytesMut::new();
    encode_request_frame(header, &body, &mut buf).map_err(fail)?;
    let frame = split_frame(&mut buf, usize::MAX)
        .map_err(fail)?
        .ok_or_else(|| fail("no whole frame"))?;
    prop_assert!(buf.is_empty());

    let mut r = Reader::new(frame);
    let decoded_header = RequestHeader::decode(&mut r).map_err(fail)?;
    prop_assert_eq!(&decoded_header, header);
    let decoded = M::decode_from(&mut r, v).map_err(fail)?;
    r.finish("_end").map_err(fail)?;
    prop_assert_eq!(&decoded, &body);
    Ok(())
}

fn response_frame_round_trips<M: Message + PartialEq + Debug>(
    header: &ResponseHeader,
    body_bytes: Bytes,
    v: i16,
) -> Result<(), TestCaseError> {
    let body = M::decode(body_bytes, v).map_err(fail)?;
    let mut buf = BytesMut::new();
    encode_response_frame(header, &body, v, &mut buf).map_err(fail)?;
    let frame = split_frame(&mut buf, usize::MAX)
        .map_err(fail)?
        .ok_or_else(|| fail("no whole frame"))?;

    let header_version = ApiKey::from_code(M::API_KEY)
        .unwrap()
        .response_header_version(v);
    let mut r = Reader::new(frame);
    let decoded_header = ResponseHeader::decode(&mut r, header_version).map_err(fail)?;
    prop_assert_eq!(&decoded_header, header);
    let decoded = M::decode_from(&mut r, v).map_err(fail)?;
    r.finish("_end").map_err(fail)?;
    prop_assert_eq!(&decoded, &body);
    Ok(())
}

/// Lengths and deltas on both sides of every varint width the builder's fast path handles
/// (one to three bytes) and of its fallback to the field-by-field writer (2^20 and more).
fn varint_edge() -> impl Strategy<Value = i64> {
    prop_oneof![
        0i64..200,
        prop::sample::select(vec![
            63i64,
            64,
            8191,
            8192,
            (1 << 20) - 1,
            1 << 20,
            1 << 21,
            1 << 40,
            -1,
            -64,
            -65,
            -8192,
            -8193,
            -(1 << 20) - 1,
            i64::MIN,
            i64::MAX,
        ]),
    ]
}

proptest! {
    #![proptest_config(config(256))]

    /// `BatchBuilder` writes records without headers through a fast path of its own; the
    /// batch it builds must be the bytes the general encoder writes for the same records.
    #[test]
    fn a_built_batch_is_what_the_general_encoder_writes(
        records in vec(
            (
                varint_edge(),
                option::of(vec(any::<u8>(), 0..150)),
                option::of(vec(any::<u8>(), 0..300)),
                prop::bool::weighted(0.1),
            ),
            // Enough records to cross the builder's 4 KiB slack steps and 8 KiB CRC chunks.
            1..60,
        ),
        long_key in prop::bool::weighted(0.05),
    ) {
        const TS: i64 = 1_700_000_000_000;
        let mut builder = kwire_codec::record::BatchBuilder::new(TS);
        for (i, (delta, key, value, with_header)) in records.iter().enumerate() {
            let mut key = key.clone();
            if long_key && i == 0 {
                key = Some(vec![b'k'; (1 << 20) + 3]);
            }
            let headers = if *with_header {
                vec![kwire_codec::record::RecordHeader { key: "h".into(), value: None }]
            } else {
                vec![]
            };
            builder
                .append(TS.wrapping_add(*delta), key.as_deref(), value.as_deref(), &headers)
                .map_err(fail)?;
        }
        let built = builder.finish().map_err(fail)?;

        let decoded = RecordBatch::decode_all(built.clone(), CrcCheck::Verify).map_err(fail)?;
        prop_assert_eq!(decoded.len(), 1);
        prop_assert_eq!(decoded[0].records.len(), records.len());
        for (i, (r, (delta, key, value, with_header))) in
            decoded[0].records.iter().zip(&records).enumerate()
        {
            prop_assert_eq!(r.attributes, 0);
            prop_assert_eq!(r.offset_delta, i as i32);
            prop_assert_eq!(r.timestamp_delta, *delta);
            if !(long_key && i == 0) {
                prop_assert_eq!(r.key.as_deref(), key.as_deref());
            }
            prop_assert_eq!(r.value.as_deref(), value.as_deref());
            prop_assert_eq!(r.headers.len(), usize::from(*with_header));
        }
        let mut again = BytesMut::new();
        decoded[0].encode(&mut again).map_err(fail)?;
        prop_assert_eq!(&again[..], &built[..]);
        prop_assert_eq!(
            crc32c::crc32c(&built[21..]),
            u32::from_be_bytes(built[17..21].try_into().unwrap())
        );
    }
}
