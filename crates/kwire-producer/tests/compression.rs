//! Batches compressed with each codec, produced to a real Kafka 4.4 broker and read back by
//! Kafka's own console consumer, which decompresses them with the Java codecs.
//!
//! Each test needs its codec's feature:
//! `cargo test -p kwire-producer --features compression --test compression`.
#![cfg(any(
    feature = "gzip",
    feature = "snappy",
    feature = "lz4",
    feature = "zstd"
))]

use std::time::Duration;

use bytes::Bytes;
use kwire_producer::{Compression, Producer, ProducerConfig, Record};
use kwire_testkit::{shared, unique_topic, ConsumedRecord};

/// Pseudo-random bytes that never contain the console consumer's record separator
/// (0x1E then a newline), so they survive its text output.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            match x as u8 {
                0x1e => 0x1f,
                b => b,
            }
        })
        .collect()
}

/// Records of every shape: JSON values that compress well, binary values that do not, null
/// and empty keys and values, headers with null values, and one value of 100 KiB that spans
/// several snappy (32 KiB) and lz4 (64 KiB) blocks.
fn records() -> Vec<Record> {
    let mut out = Vec::new();
    for i in 0..200u64 {
        let value = match i % 4 {
            0 | 1 => Bytes::from(format!(
                "{{\"id\":{i},\"event\":\"push\",\"repo\":\"kwire/kwire\",\"text\":\"{}\"}}",
                "compress me ".repeat((i % 30) as usize)
            )),
            2 => Bytes::from(noise(50 + (i as usize * 7) % 400, i)),
            _ => Bytes::new(),
        };
        let mut r = Record::value(value);
        if i % 5 != 0 {
            r = r.with_key(format!("key-{}", i % 13));
        }
        if i % 6 == 0 {
            r = r
                .with_header("trace", Some(Bytes::from(format!("t-{i}"))))
                .with_header("nullable", None);
        }
        out.push(r);
    }
    out.push(Record {
        key: Some(Bytes::from_static(b"tombstone")),
        value: None,
        ..Default::default()
    });
    out.push(Record::value(Bytes::from(noise(100 * 1024, 7))).with_key("large"));
    out
}

/// What the console consumer should print for `records` at offsets 0, 1, 2, …
fn expected(records: &[Record]) -> Vec<ConsumedRecord> {
    records
        .iter()
        .enumerate()
        .map(|(offset, r)| ConsumedRecord {
            partition: 0,
            offset: offset as i64,
            key: r.key.as_ref().map(|k| k.to_vec()),
            value: r.value.as_ref().map(|v| v.to_vec()),
            headers: r
                .headers
                .iter()
                .map(|h| (h.key.clone(), h.value.as_ref().map(|v| v.to_vec())))
                .collect(),
        })
        .collect()
}

/// Produces every record with `compression` (queued together, so that they share batches),
/// checks the offsets, then reads the topic back with the console consumer.
async fn compressed_records_read_back_byte_identical(compression: Compression) {
    let cluster = shared();
    let topic = unique_topic(&format!("compressed-{}", compression.name()));
    cluster.create_topic(&topic, 1).expect("create topic");
    let mut config = ProducerConfig::new([cluster.bootstrap()]);
    config.compression = compression;
    config.linger = Duration::from_millis(50);
    let producer = Producer::connect(config).await.expect("connect");

    let records = records();
    let mut deliveries = Vec::new();
    for r in records.iter().cloned() {
        deliveries.push(producer.send(&topic, r).await.expect("enqueue"));
    }
    let mut offsets = Vec::new();
    for d in deliveries {
        let d = d.await.unwrap_or_else(|e| panic!("{compression:?}: {e}"));
        offsets.push(d.offset);
    }
    assert_eq!(offsets, (0..records.len() as i64).collect::<Vec<_>>());

    let got = cluster
        .consume(&topic, records.len(), Duration::from_secs(90))
        .expect("console consumer");
    assert_eq!(got.len(), records.len(), "{compression:?}");
    for (got, want) in got.iter().zip(expected(&records)) {
        assert_eq!(got, &want, "{compression:?} at offset {}", want.offset);
    }
}

#[cfg(feature = "gzip")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_batches_read_back_byte_identical() {
    compressed_records_read_back_byte_identical(Compression::Gzip).await;
}

#[cfg(feature = "snappy")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snappy_batches_read_back_byte_identical() {
    compressed_records_read_back_byte_identical(Compression::Snappy).await;
}

#[cfg(feature = "lz4")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lz4_batches_read_back_byte_identical() {
    compressed_records_read_back_byte_identical(Compression::Lz4).await;
}

#[cfg(feature = "zstd")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zstd_batches_read_back_byte_identical() {
    compressed_records_read_back_byte_identical(Compression::Zstd).await;
}
