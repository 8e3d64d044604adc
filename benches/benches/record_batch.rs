//! RecordBatch v2 encode and decode (CRC checked), kwire-codec side by side with the
//! kafka-protocol crate, plus a baseline that only copies the batch's bytes and computes
//! their CRC-32C, for three shapes of batch. See docs/benchmarks.md for how to read it.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kwire_benches::{
    capacity, check_agreement, copy_and_crc, crc_with_crc32c_crate, crc_with_kwire_crc32c, input,
    kp_decode, kp_encode, kp_records, kwire_decode, kwire_encode, SHAPES,
};

fn benches(c: &mut Criterion) {
    eprintln!(
        "kwire-crc32c on this CPU: {}",
        kwire_crc32c::implementation()
    );
    for shape in &SHAPES {
        let input = input(shape);
        let kp = kp_records(&input);
        let capacity = capacity(shape);
        let batch = check_agreement(&input, &kp, capacity);
        eprintln!(
            "{}: {} records, batch of {} bytes",
            shape.label,
            shape.count,
            batch.len()
        );

        let mut group = c.benchmark_group(format!("encode/{}", shape.label));
        group.throughput(Throughput::Bytes(batch.len() as u64));
        group.bench_function(BenchmarkId::from_parameter("kwire"), |b| {
            b.iter(|| kwire_encode(black_box(&input), capacity))
        });
        group.bench_function(BenchmarkId::from_parameter("kafka-protocol"), |b| {
            b.iter(|| kp_encode(black_box(&kp), capacity))
        });
        group.bench_function(BenchmarkId::from_parameter("copy+crc32c"), |b| {
            b.iter(|| copy_and_crc(black_box(&batch)))
        });
        group.finish();

        let mut group = c.benchmark_group(format!("decode/{}", shape.label));
        group.throughput(Throughput::Bytes(batch.len() as u64));
        group.bench_function(BenchmarkId::from_parameter("kwire"), |b| {
            b.iter(|| kwire_decode(black_box(&batch)))
        });
        group.bench_function(BenchmarkId::from_parameter("kafka-protocol"), |b| {
            b.iter(|| kp_decode(black_box(&batch)))
        });
        group.bench_function(BenchmarkId::from_parameter("copy+crc32c"), |b| {
            b.iter(|| copy_and_crc(black_box(&batch)))
        });
        group.finish();

        let mut group = c.benchmark_group(format!("crc32c/{}", shape.label));
        group.throughput(Throughput::Bytes(batch.len() as u64 - 21));
        group.bench_function(BenchmarkId::from_parameter("crc32c-crate"), |b| {
            b.iter(|| crc_with_crc32c_crate(black_box(&batch)))
        });
        group.bench_function(BenchmarkId::from_parameter("kwire-crc32c"), |b| {
            b.iter(|| crc_with_kwire_crc32c(black_box(&batch)))
        });
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(40)
}

criterion_group! {
    name = record_batch;
    config = config();
    targets = benches
}
criterion_main!(record_batch);
