//! Named edge cases: the inputs a hostile or broken peer can send.
//!
//! Varints at their limits and in over-long forms, negative lengths other than the null
//! marker, counts that claim more elements than the input could hold, damaged CRCs, and
//! bytes left over at every boundary. The allocation checks run under a counting allocator,
//! so that "rejected before allocating" is measured, not assumed.

mod common;

use std::alloc::System;

use bytes::{Bytes, BytesMut};
use common::vectors::{
    batch_a, from_hex, produce_ok_response, produce_request_with_batch_a, squash, TS,
};
use kwire_codec::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use kwire_codec::metadata::{MetadataRequest, MetadataResponse};
use kwire_codec::primitives::{put_uvarint, put_varlong, varlong_len};
use kwire_codec::record::{BatchBuilder, CrcCheck, RecordBatch, RecordHeader};
use kwire_codec::{hex, parse_hex, DecodeError, DecodeErrorKind, Message, Reader};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

// ---------------------------------------------------------------------------------------
// Varints

fn uvarint_bytes(v: u32) -> String {
    let mut buf = BytesMut::new();
    put_uvarint(&mut buf, v);
    hex(&buf)
}

fn varlong_bytes(v: i64) -> String {
    let mut buf = BytesMut::new();
    put_varlong(&mut buf, v);
    assert_eq!(buf.len(), varlong_len(v));
    hex(&buf)
}

fn reader(hex_text: &str) -> Reader {
    Reader::new(from_hex(hex_text))
}

#[test]
fn unsigned_varints_take_the_reference_bytes_at_their_edges() {
    let cases = [
        (0u32, "00"),
        (1, "01"),
        (127, "7f"),
        (128, "8001"),
        (16_383, "ff7f"),
        (16_384, "808001"),
        (u32::MAX, "ffffffff0f"),
    ];
    for (value, wire) in cases {
        assert_eq!(uvarint_bytes(value), wire, "{value}");
        let mut r = reader(wire);
        assert_eq!(r.uvarint("v").unwrap(), value);
        r.finish("v").unwrap();
    }
}

#[test]
fn varlongs_take_the_reference_bytes_at_zero_plus_minus_one_and_the_extremes() {
    let cases = [
        (0i64, "00"),
        (-1, "01"),
        (1, "02"),
        (i64::from(i32::MAX), "feffffff0f"),
        (i64::from(i32::MIN), "ffffffff0f"),
        (i64::from(i32::MAX) + 1, "8080808010"),
        (i64::MAX, "feffffffffffffffff01"),
        (i64::MIN, "ffffffffffffffffff01"),
    ];
    for (value, wire) in cases {
        assert_eq!(varlong_bytes(value), wire, "{value}");
        let mut r = reader(wire);
        assert_eq!(r.varlong("v").unwrap(), value);
        r.finish("v").unwrap();
    }
}

#[test]
fn over_long_varints_are_rejected() {
    // Six bytes for an unsigned varint, whose limit is five.
    let e = reader("808080808001").uvarint("v").unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::VarintTooLong { max_bytes: 5 });
    // Five bytes, but more than 32 bits.
    let e = reader("ffffffff1f").uvarint("v").unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::VarintTooLong { max_bytes: 5 });
    // Eleven bytes for a varlong, whose limit is ten.
    let e = reader("ffffffffffffffffffff01").varlong("v").unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::VarintTooLong { max_bytes: 10 });
    // Ten bytes whose last carries more than the 64th bit.
    let e = reader("ffffffffffffffffff03").varlong("v").unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::VarintTooLong { max_bytes: 10 });
}

#[test]
fn varints_with_redundant_zero_continuation_bytes_are_non_canonical() {
    for (wire, what) in [("8000", "0 in two bytes"), ("818000", "-1 in three bytes")] {
        let e = reader(wire).varint("v").unwrap_err();
        assert!(
            matches!(e.kind, DecodeErrorKind::NonCanonical(_)),
            "{what}: {e}"
        );
        assert_eq!(e.offset, 0);
        let e = reader(wire).varlong("v").unwrap_err();
        assert!(
            matches!(e.kind, DecodeErrorKind::NonCanonical(_)),
            "{what}: {e}"
        );
    }
}

#[test]
fn a_varint_cut_off_mid_way_is_truncated_and_reported_at_its_start() {
    let mut r = reader("00 ffff");
    assert_eq!(r.varint("first").unwrap(), 0);
    let e = r.varint("second").unwrap_err();
    assert_eq!(
        e.kind,
        DecodeErrorKind::Truncated {
            needed: 3,
            remaining: 2
        }
    );
    assert_eq!(e.offset, 1);
    assert_eq!(e.field, "second");
}

// ---------------------------------------------------------------------------------------
// Lengths

fn invalid_length(length: i64, remaining: usize) -> DecodeErrorKind {
    DecodeErrorKind::InvalidLength { length, remaining }
}

#[test]
fn negative_string_lengths_other_than_minus_one_are_rejected() {
    let e = reader("fffe 6162").string(false, "name").unwrap_err();
    assert_eq!(e.kind, invalid_length(-2, 2));
    let e = reader("8000 6162")
        .nullable_string(false, "name")
        .unwrap_err();
    assert_eq!(e.kind, invalid_length(-32_768, 2));
    // -1 is null, which a non-nullable string does not allow.
    let e = reader("ffff").string(false, "name").unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::UnexpectedNull);
    assert_eq!(reader("ffff").nullable_string(false, "name").unwrap(), None);
}

#[test]
fn negative_bytes_lengths_other_than_minus_one_are_rejected() {
    let e = reader("fffffffe 00")
        .nullable_bytes(false, "records")
        .unwrap_err();
    assert_eq!(e.kind, invalid_length(-2, 1));
    let e = reader("80000000")
        .nullable_bytes(false, "records")
        .unwrap_err();
    assert_eq!(e.kind, invalid_length(i64::from(i32::MIN), 0));
    assert_eq!(
        reader("ffffffff").nullable_bytes(false, "records").unwrap(),
        None
    );
}

#[test]
fn negative_array_counts_other_than_minus_one_are_rejected() {
    let e = reader("fffffffe 00000001")
        .array(false, 4, "ids", |r| r.i32("id"))
        .unwrap_err();
    assert_eq!(e.kind, invalid_length(-2, 4));
    let e = reader("ffffffff")
        .array(false, 4, "ids", |r| r.i32("id"))
        .unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::UnexpectedNull);
    let none = reader("ffffffff")
        .nullable_array(false, 4, "ids", |r| r.i32("id"))
        .unwrap();
    assert_eq!(none, None);

    // The same inside a message: a MetadataResponse v0 whose broker count is -2.
    let e = MetadataResponse::decode(from_hex("fffffffe 00000000"), 0).unwrap_err();
    assert_eq!(e.kind, invalid_length(-2, 4));
    assert_eq!(e.field, "brokers");
    assert_eq!((e.message, e.version), (Some("MetadataResponse"), Some(0)));
}

#[test]
fn compact_lengths_past_the_input_and_compact_nulls_where_none_is_allowed_are_rejected() {
    // Compact lengths are N+1 and cannot go below the null marker 0; the hostile forms are
    // a null where the schema has none and a length the input cannot hold.
    let e = reader("00").string(true, "host").unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::UnexpectedNull);
    let e = reader("ffffffff0f 6162").string(true, "host").unwrap_err();
    assert_eq!(e.kind, invalid_length(4_294_967_294, 2));
    let e = reader("ffffffff0f 00")
        .nullable_bytes(true, "records")
        .unwrap_err();
    assert_eq!(e.kind, invalid_length(4_294_967_294, 1));
    let e = reader("00")
        .array(true, 4, "ids", |r| r.i32("id"))
        .unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::UnexpectedNull);
    let e = reader("06 00000001")
        .array(true, 4, "ids", |r| r.i32("id"))
        .unwrap_err();
    assert_eq!(e.kind, invalid_length(5, 4));
}

/// A batch around hand-written record bytes: batch A's header with length, count and CRC
/// made to fit, so that only the records are wrong.
fn batch_around(records_count: i32, records: &[u8]) -> Bytes {
    let mut out = batch_a()[..61].to_vec();
    out.extend_from_slice(records);
    let length = (out.len() - 12) as i32;
    out[8..12].copy_from_slice(&length.to_be_bytes());
    out[57..61].copy_from_slice(&records_count.to_be_bytes());
    let crc = crc32c::crc32c(&out[21..]);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
    Bytes::from(out)
}

fn batch_error(records_count: i32, records: &str) -> DecodeError {
    let raw = parse_hex(records).unwrap();
    RecordBatch::decode_all(batch_around(records_count, &raw), CrcCheck::Verify).unwrap_err()
}

#[test]
fn a_header_key_length_of_minus_one_is_rejected() {
    // Record: length 12, attributes, ts delta, offset delta, key null, value "v",
    // 2 headers: "h" = null, then key length -1 (zigzag 01) and value null.
    let e = batch_error(1, "18 00 00 00 01 02 76 04 02 68 01 01 01");
    assert_eq!(e.kind, DecodeErrorKind::UnexpectedNull);
    assert_eq!(e.field, "header.key");
    assert_eq!(e.offset, 61 + 1 + 10);
}

#[test]
fn negative_record_lengths_other_than_minus_one_are_rejected() {
    // Each record is: length, attributes 00, ts delta 00, offset delta 00, then the fields.
    let cases = [
        ("0c 00 00 00 03 00 00", "record.key", -2),
        ("0c 00 00 00 01 03 00", "record.value", -2),
        ("0c 00 00 00 01 01 01", "record.headers_count", -1),
        ("12 00 00 00 01 01 02 02 68 03", "header.value", -2),
        ("12 00 00 00 01 01 02 05 68 00", "header.key", -3),
        ("03 00 00 00 01 01 00", "record.length", -2),
    ];
    for (record, field, length) in cases {
        let e = batch_error(1, record);
        assert_eq!(e.field, field, "{record}");
        assert!(
            matches!(e.kind, DecodeErrorKind::InvalidLength { length: l, .. } if l == length),
            "{record}: {e}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Timestamps and CRC

#[test]
fn timestamp_deltas_beyond_two_to_the_31_ms_take_five_byte_varlongs_both_ways() {
    let later = TS + (1i64 << 31);
    let earlier = TS - (1i64 << 31) - 1;
    let mut b = BatchBuilder::new(TS);
    b.append(later, None, None, &[]).unwrap();
    b.append(earlier, None, None, &[]).unwrap();
    let wire = b.finish().unwrap();

    // Each record: length 10 (zigzag 14), attributes, the five-byte timestamp delta, offset
    // delta, null key, null value, no headers.
    assert_eq!(
        hex(&wire[61..]),
        squash("14 00 8080808010 00 01 01 00  14 00 8180808010 02 01 01 00")
    );
    let batch = RecordBatch::decode_all(wire, CrcCheck::Verify).unwrap();
    let deltas: Vec<i64> = batch[0].records.iter().map(|r| r.timestamp_delta).collect();
    assert_eq!(deltas, vec![1i64 << 31, -(1i64 << 31) - 1]);
    assert_eq!(batch[0].max_timestamp, later);
}

#[test]
fn the_crc_covers_a_tombstone_and_the_last_header_of_the_last_record() {
    let headers = [
        RecordHeader {
            key: "h1".into(),
            value: Some(Bytes::from_static(b"x")),
        },
        RecordHeader {
            key: "h2".into(),
            value: Some(Bytes::from_static(b"yz")),
        },
    ];
    let mut b = BatchBuilder::new(TS);
    b.append(TS, Some(b"k"), None, &[]).unwrap();
    b.append(TS + 1, Some(b"k2"), Some(b"v"), &headers).unwrap();
    let good = b.finish().unwrap();
    let crc = u32::from_be_bytes(good[17..21].try_into().unwrap());
    assert_eq!(good.last(), Some(&b'z'));

    let mut bad = good.to_vec();
    *bad.last_mut().unwrap() = b'Z';
    let e = RecordBatch::decode_all(Bytes::from(bad.clone()), CrcCheck::Verify).unwrap_err();
    assert_eq!(
        e.kind,
        DecodeErrorKind::CrcMismatch {
            expected: crc,
            actual: crc32c::crc32c(&bad[21..])
        }
    );
    assert_eq!((e.offset, e.field), (17, "crc"));
    assert!(!RecordBatch::crc_is_valid(&bad));

    let unchecked = RecordBatch::decode_all(Bytes::from(bad), CrcCheck::Skip).unwrap();
    let records = &unchecked[0].records;
    assert_eq!(records[0].value, None);
    assert_eq!(
        records[1].headers[1].value.as_deref(),
        Some(&b"yZ"[..]),
        "the damage is in the last header value"
    );
}

// ---------------------------------------------------------------------------------------
// Hostile counts

/// Bytes newly allocated while `f` runs. Tests run in parallel, so this also counts other
/// threads' allocations; those are small, and the thresholds below are far from the
/// gigabytes a count of 2^31 would ask for.
fn allocated_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let region = Region::new(GLOBAL);
    let out = f();
    let change = region.change();
    let grown = usize::try_from(change.bytes_reallocated.max(0)).unwrap_or(0);
    (out, change.bytes_allocated + grown)
}

const SMALL: usize = 1 << 20;

#[test]
fn an_array_count_of_2_pow_31_minus_1_with_3_bytes_left_is_rejected_without_a_big_allocation() {
    let (result, allocated) =
        allocated_during(|| MetadataResponse::decode(from_hex("7fffffff 000000"), 0));
    let e = result.unwrap_err();
    assert_eq!(e.kind, invalid_length(i64::from(i32::MAX), 3));
    assert_eq!((e.offset, e.field), (0, "brokers"));
    assert!(allocated < SMALL, "{allocated} bytes allocated");

    // The compact form: throttle time, then a compact count of 2^31 (2^31 - 1 elements).
    let (result, allocated) =
        allocated_during(|| MetadataResponse::decode(from_hex("00000000 8080808008 000000"), 9));
    let e = result.unwrap_err();
    assert_eq!(e.kind, invalid_length(i64::from(i32::MAX), 3));
    assert_eq!((e.offset, e.field), (4, "brokers"));
    assert!(allocated < SMALL, "{allocated} bytes allocated");
}

#[test]
fn a_huge_record_count_is_rejected_without_a_big_allocation() {
    let mut wire = batch_a().to_vec();
    wire[57..61].copy_from_slice(&i32::MAX.to_be_bytes());
    let crc = crc32c::crc32c(&wire[21..]);
    wire[17..21].copy_from_slice(&crc.to_be_bytes());

    let (result, allocated) =
        allocated_during(|| RecordBatch::decode_all(Bytes::from(wire), CrcCheck::Verify));
    let e = result.unwrap_err();
    assert_eq!(e.kind, invalid_length(i64::from(i32::MAX), 9));
    assert_eq!((e.offset, e.field), (57, "records_count"));
    assert!(allocated < SMALL, "{allocated} bytes allocated");
}

#[test]
fn a_huge_tagged_field_count_is_rejected_without_a_big_allocation() {
    // ApiVersionsRequest v3: empty name, empty version, then 2^32 - 1 tagged fields.
    let (result, allocated) =
        allocated_during(|| ApiVersionsRequest::decode(from_hex("01 01 ffffffff0f 0000"), 3));
    let e = result.unwrap_err();
    assert_eq!(e.kind, invalid_length(i64::from(u32::MAX), 2));
    assert_eq!((e.offset, e.field), (7, "_tagged_fields"));
    assert!(allocated < SMALL, "{allocated} bytes allocated");
}

#[test]
fn a_huge_header_count_in_a_record_is_rejected_without_a_big_allocation() {
    // One record claiming i32::MAX headers (zigzag fe ff ff ff 0f) with 2 bytes for them.
    let raw = parse_hex("18 00 00 00 01 01 feffffff0f 0000").unwrap();
    let wire = batch_around(1, &raw);
    let (result, allocated) = allocated_during(|| RecordBatch::decode_all(wire, CrcCheck::Verify));
    let e = result.unwrap_err();
    assert_eq!(e.kind, invalid_length(i64::from(i32::MAX), 2));
    assert_eq!(e.field, "record.headers_count");
    assert!(allocated < SMALL, "{allocated} bytes allocated");
}

// ---------------------------------------------------------------------------------------
// Leftover bytes

fn with_trailing_byte<M: Message + std::fmt::Debug>(value: &M, version: i16) -> DecodeError {
    let mut buf = BytesMut::new();
    value.encode(version, &mut buf).unwrap();
    let len = buf.len();
    buf.extend_from_slice(&[0x00]);
    let e = M::decode(buf.freeze(), version).unwrap_err();
    assert_eq!(e.offset, len);
    e
}

#[test]
fn trailing_bytes_after_a_message_are_an_error_naming_end() {
    let errors = [
        with_trailing_byte(&ApiVersionsRequest::default(), 0),
        with_trailing_byte(&ApiVersionsResponse::default(), 4),
        with_trailing_byte(&MetadataRequest::for_topics(&["t"], true), 12),
        with_trailing_byte(&MetadataResponse::default(), 13),
        with_trailing_byte(&produce_request_with_batch_a(), 9),
        with_trailing_byte(&produce_ok_response(0), 3),
    ];
    let names = [
        ("ApiVersionsRequest", 0),
        ("ApiVersionsResponse", 4),
        ("MetadataRequest", 12),
        ("MetadataResponse", 13),
        ("ProduceRequest", 9),
        ("ProduceResponse", 3),
    ];
    for (e, (name, version)) in errors.iter().zip(names) {
        assert_eq!(e.kind, DecodeErrorKind::TrailingBytes { remaining: 1 });
        assert_eq!(e.field, "_end");
        assert_eq!((e.message, e.version), (Some(name), Some(version)));
    }
}

#[test]
fn bytes_left_inside_a_record_or_after_the_last_record_are_errors() {
    // A record whose length covers one byte more than its fields.
    let e = batch_error(1, "0e 00 00 00 01 01 00 ff");
    assert_eq!(e.kind, DecodeErrorKind::TrailingBytes { remaining: 1 });
    assert_eq!(e.field, "record");

    // A well-formed record followed by a byte the count does not account for.
    let e = batch_error(1, "0c 00 00 00 01 01 00 ff");
    assert_eq!(e.kind, DecodeErrorKind::TrailingBytes { remaining: 1 });
    assert_eq!(e.field, "records");
}
