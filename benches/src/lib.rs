//! Shared inputs and operations of the record-batch benchmarks: the batch shapes, the same
//! records for kwire-codec and kafka-protocol, and the copy-and-CRC baseline.
//!
//! Every record has a 10-byte key (`key-000042`), a value of the shape's size (printable
//! pseudo-random bytes), no headers, and a timestamp one millisecond after the previous one.
//! Both codecs write into a buffer sized for the whole batch, as a producer that knows its
//! batch size does, and both verify the CRC when decoding.

#![forbid(unsafe_code)]

use bytes::{Bytes, BytesMut};
use kafka_protocol::records::{
    Compression as KpCompression, Record as KpRecord, RecordBatchDecoder, RecordBatchEncoder,
    RecordEncodeOptions, TimestampType,
};
use kwire_codec::record::{BatchBuilder, CrcCheck, RecordBatch};

pub use kafka_protocol::records::Record as KafkaProtocolRecord;

/// A shape's batch, decoded by kwire (CRC checked).
pub fn kwire_decode(batch: &Bytes) -> Vec<RecordBatch> {
    RecordBatch::decode_all(batch.clone(), CrcCheck::Verify).expect("kwire decodes")
}

/// A shape's batch, decoded by kafka-protocol (which always checks the CRC).
pub fn kp_decode(batch: &Bytes) -> kafka_protocol::records::RecordSet {
    RecordBatchDecoder::decode(&mut batch.clone()).expect("kafka-protocol decodes")
}

/// Room for a whole batch of `shape`.
pub fn capacity(shape: &Shape) -> usize {
    61 + shape.count * (shape.value_size + 32)
}

pub const TS: i64 = 1_700_000_000_000;

/// One batch shape: how many records, and how large each value is.
pub struct Shape {
    /// Name used in benchmark ids.
    pub label: &'static str,
    /// Records in the batch.
    pub count: usize,
    /// Bytes of each value.
    pub value_size: usize,
}

pub const SHAPES: [Shape; 3] = [
    Shape {
        label: "1000x100B",
        count: 1000,
        value_size: 100,
    },
    Shape {
        label: "1000x1KiB",
        count: 1000,
        value_size: 1024,
    },
    Shape {
        label: "100x10KiB",
        count: 100,
        value_size: 10 * 1024,
    },
];

/// The records of a shape, as plain data.
pub struct Input {
    timestamps: Vec<i64>,
    keys: Vec<Bytes>,
    values: Vec<Bytes>,
}

pub fn input(shape: &Shape) -> Input {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut byte = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b' ' + (x % 95) as u8
    };
    Input {
        timestamps: (0..shape.count as i64).map(|i| TS + i).collect(),
        keys: (0..shape.count)
            .map(|i| Bytes::from(format!("key-{i:06}")))
            .collect(),
        values: (0..shape.count)
            .map(|_| (0..shape.value_size).map(|_| byte()).collect())
            .collect(),
    }
}

/// The same records as kafka-protocol's structs (its encoder's input form).
pub fn kp_records(input: &Input) -> Vec<KpRecord> {
    (0..input.keys.len())
        .map(|i| KpRecord {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // kafka-protocol keeps records in one batch while offset − sequence is constant,
            // and writes the first record's sequence as the base sequence: −1, as kwire.
            sequence: i as i32 - 1,
            timestamp: input.timestamps[i],
            key: Some(input.keys[i].clone()),
            value: Some(input.values[i].clone()),
            headers: Default::default(),
        })
        .collect()
}

pub fn kwire_encode(input: &Input, capacity: usize) -> Bytes {
    let mut b = BatchBuilder::with_capacity(TS, capacity);
    let records = input.timestamps.iter().zip(&input.keys).zip(&input.values);
    for ((&timestamp, key), value) in records {
        b.append(timestamp, Some(key), Some(value), &[])
            .expect("record fits");
    }
    b.finish().expect("batch fits")
}

pub fn kp_encode(records: &[KpRecord], capacity: usize) -> Bytes {
    let options = RecordEncodeOptions {
        version: 2,
        compression: KpCompression::None,
    };
    let mut buf = BytesMut::with_capacity(capacity);
    RecordBatchEncoder::encode(&mut buf, records.iter(), &options).expect("batch encodes");
    buf.freeze()
}

/// The CRC-32C of a batch's checked bytes with the `crc32c` crate (the `crc32` instruction
/// where the CPU has it), which kafka-protocol uses.
pub fn crc_with_crc32c_crate(batch: &[u8]) -> u32 {
    crc32c::crc32c(&batch[21..])
}

/// The same CRC with kwire-crc32c (carry-less-multiply folding where the CPU has it), which
/// kwire-codec uses.
pub fn crc_with_kwire_crc32c(batch: &[u8]) -> u32 {
    kwire_crc32c::crc32c(&batch[21..])
}

/// The baseline: copy the batch into a fresh buffer and compute the CRC the codecs compute,
/// with the faster of the two CRC-32C implementations.
pub fn copy_and_crc(batch: &[u8]) -> (BytesMut, u32) {
    let mut out = BytesMut::with_capacity(batch.len());
    out.extend_from_slice(batch);
    let crc = kwire_crc32c::crc32c(&out[21..]);
    (out, crc)
}

/// Both codecs must agree before their speed means anything.
pub fn check_agreement(input: &Input, kp: &[KpRecord], capacity: usize) -> Bytes {
    let ours = kwire_encode(input, capacity);
    let theirs = kp_encode(kp, capacity);
    assert!(
        ours == theirs,
        "kwire and kafka-protocol write different bytes"
    );
    let decoded = RecordBatch::decode_all(ours.clone(), CrcCheck::Verify).expect("kwire decodes");
    let set = RecordBatchDecoder::decode(&mut ours.clone()).expect("kafka-protocol decodes");
    assert_eq!(decoded[0].records.len(), set.records.len());
    for (a, b) in decoded[0].records.iter().zip(&set.records) {
        assert_eq!((&a.key, &a.value), (&b.key, &b.value));
    }
    ours
}
