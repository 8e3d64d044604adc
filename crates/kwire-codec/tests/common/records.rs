//! Strategies for record batches: arbitrary ones, and the canonical form a producer (and
//! kafka-protocol) writes.

use kwire_codec::record::{Record, RecordBatch, RecordHeader};
use proptest::collection::{btree_set, vec};
use proptest::option;
use proptest::prelude::*;

use super::{bytes, text};

/// A record header key from a small pool, so that records often repeat a key.
fn header_key() -> BoxedStrategy<String> {
    prop_oneof![Just("a".to_owned()), Just("b".to_owned()), text()].boxed()
}

/// A record header: keys repeat, values may be null or empty.
pub fn record_header() -> BoxedStrategy<RecordHeader> {
    (header_key(), option::of(bytes(6)))
        .prop_map(|(key, value)| RecordHeader { key, value })
        .boxed()
}

/// A timestamp delta: small, beyond ±2^31 ms, or anything.
pub fn timestamp_delta() -> BoxedStrategy<i64> {
    prop_oneof![
        -1000i64..1000,
        (1i64 << 31)..(1i64 << 45),
        -(1i64 << 45)..-(1i64 << 31),
        any::<i64>(),
    ]
    .boxed()
}

/// A record with null, empty or non-empty key and value, and up to four headers.
pub fn record() -> BoxedStrategy<Record> {
    (
        any::<i8>(),
        timestamp_delta(),
        prop_oneof![0i32..8, any::<i32>()],
        option::of(bytes(8)),
        option::of(bytes(8)),
        vec(record_header(), 0..4),
    )
        .prop_map(
            |(attributes, timestamp_delta, offset_delta, key, value, headers)| Record {
                attributes,
                timestamp_delta,
                offset_delta,
                key,
                value,
                headers,
            },
        )
        .boxed()
}

/// An uncompressed batch with any header values and up to four records. The `crc` field is
/// left at 0, since encoding computes it.
pub fn record_batch() -> BoxedStrategy<RecordBatch> {
    (
        (any::<i64>(), any::<i32>(), any::<i16>(), any::<i32>()),
        (any::<i64>(), any::<i64>()),
        (any::<i64>(), any::<i16>(), any::<i32>()),
        vec(record(), 0..4),
    )
        .prop_map(
            |(
                (base_offset, leader_epoch, attributes, last_offset_delta),
                (base_timestamp, max_timestamp),
                (producer_id, producer_epoch, base_sequence),
                records,
            )| RecordBatch {
                base_offset,
                partition_leader_epoch: leader_epoch,
                crc: 0,
                // Compression bits clear: compressed batches are not decoded.
                attributes: attributes & !0x07,
                last_offset_delta,
                base_timestamp,
                max_timestamp,
                producer_id,
                producer_epoch,
                base_sequence,
                records,
            },
        )
        .boxed()
}

/// A batch as a producer builds it, in the form kafka-protocol also writes: offsets 0, 1,
/// 2, … from a base offset, base timestamp = the smallest record timestamp, max timestamp =
/// the largest, record attributes 0, distinct header keys per record, and only the
/// transactional, control and delete-horizon attribute bits.
pub fn canonical_record_batch() -> BoxedStrategy<RecordBatch> {
    let record = (
        -(1i64 << 45)..(1i64 << 45),
        option::of(bytes(8)),
        option::of(bytes(8)),
        btree_set(header_key(), 0..4),
        vec(option::of(bytes(6)), 4),
    );
    (
        (0i64..(1i64 << 60), any::<i32>(), 0i16..8),
        (any::<i64>(), any::<i16>(), any::<i32>()),
        vec(record, 1..5),
    )
        .prop_map(
            |((base_offset, leader_epoch, flags), (producer_id, producer_epoch, seq), raw)| {
                let base_timestamp = raw.iter().map(|r| r.0).min().unwrap_or(0);
                let max_timestamp = raw.iter().map(|r| r.0).max().unwrap_or(0);
                let records: Vec<Record> = raw
                    .into_iter()
                    .enumerate()
                    .map(|(i, (ts, key, value, keys, values))| Record {
                        attributes: 0,
                        timestamp_delta: ts - base_timestamp,
                        offset_delta: i as i32,
                        key,
                        value,
                        headers: keys
                            .into_iter()
                            .zip(values)
                            .map(|(key, value)| RecordHeader { key, value })
                            .collect(),
                    })
                    .collect();
                RecordBatch {
                    base_offset,
                    partition_leader_epoch: leader_epoch,
                    crc: 0,
                    attributes: flags << 4,
                    last_offset_delta: records.len() as i32 - 1,
                    base_timestamp,
                    max_timestamp,
                    producer_id,
                    producer_epoch,
                    base_sequence: seq,
                    records,
                }
            },
        )
        .boxed()
}
