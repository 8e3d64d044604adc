//! Round trips and hostile inputs for each codec compiled into this build.

use bytes::{Bytes, BytesMut};

use super::*;
use crate::error::DecodeErrorKind;
use crate::record::{BatchBuilder, CrcCheck, RecordBatch, RecordHeader};

const TS: i64 = 1_700_000_000_000;

/// The codecs this build has.
fn enabled() -> Vec<Compression> {
    [
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ]
    .into_iter()
    .filter(|c| c.is_enabled())
    .collect()
}

/// A batch of `n` records with keys, values of varied sizes, null values and headers.
fn builder(n: usize) -> BatchBuilder {
    let mut b = BatchBuilder::new(TS);
    for i in 0..n {
        let key = format!("key-{}", i % 7);
        let value = format!("{{\"n\":{i},\"text\":\"{}\"}}", "kafka ".repeat(i % 50));
        let headers = [RecordHeader {
            key: "trace".into(),
            value: (i % 3 != 0).then(|| Bytes::from(format!("t{i}"))),
        }];
        let value = (i % 11 != 5).then_some(value.as_bytes());
        b.append(TS + i as i64, Some(key.as_bytes()), value, &headers)
            .unwrap();
    }
    b
}

/// An incompressible-looking payload of `len` bytes (xorshift), so sizes are predictable.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn every_enabled_codec_round_trips_a_batch_through_the_builder() {
    let plain = RecordBatch::decode_all(builder(300).finish().unwrap(), CrcCheck::Verify)
        .unwrap()
        .remove(0);
    for c in enabled() {
        let bytes = builder(300).finish_compressed(c).unwrap();
        assert!(RecordBatch::crc_is_valid(&bytes), "{c:?}");
        let batch = RecordBatch::decode_all(bytes.clone(), CrcCheck::Verify)
            .unwrap()
            .remove(0);
        assert_eq!(batch.compression(), Ok(c));
        assert_eq!(batch.records, plain.records, "{c:?}");
        assert_eq!(batch.last_offset_delta, 299);
        assert_eq!(batch.max_timestamp, TS + 299);
        let uncompressed = builder(300).size();
        assert!(
            bytes.len() < uncompressed / 2,
            "{c:?}: {} bytes",
            bytes.len()
        );
    }
}

#[test]
fn every_enabled_codec_round_trips_through_record_batch_encode() {
    let mut batch = RecordBatch::decode_all(builder(40).finish().unwrap(), CrcCheck::Verify)
        .unwrap()
        .remove(0);
    for c in enabled() {
        batch.attributes = c.attribute_bits();
        let mut out = BytesMut::from(&b"prefix"[..]);
        batch.encode(&mut out).unwrap();
        assert_eq!(&out[..6], b"prefix");
        let again = RecordBatch::decode_all(out.freeze().slice(6..), CrcCheck::Verify)
            .unwrap()
            .remove(0);
        assert_eq!(again.records, batch.records, "{c:?}");
        assert_eq!(again.attributes, batch.attributes);
    }
}

#[test]
fn a_single_empty_value_survives_every_codec() {
    for c in enabled() {
        let mut b = BatchBuilder::new(TS);
        b.append(TS, None, Some(b""), &[]).unwrap();
        let batch = RecordBatch::decode_all(b.finish_compressed(c).unwrap(), CrcCheck::Verify)
            .unwrap()
            .remove(0);
        assert_eq!(batch.records[0].value.as_deref(), Some(&b""[..]), "{c:?}");
    }
}

#[test]
fn output_beyond_the_limit_is_a_typed_error_for_every_codec() {
    let zeros = vec![0u8; 1 << 20];
    for c in enabled() {
        let mut packed = BytesMut::new();
        compress(c, &zeros, &mut packed).unwrap();
        assert!(packed.len() < 64 * 1024, "{c:?} packs 1 MiB of zeros small");
        let err = decompress(c, &packed, 64 * 1024).unwrap_err();
        assert_eq!(
            err,
            DecodeErrorKind::DecompressedTooLarge {
                codec: c.name(),
                limit: 64 * 1024
            }
        );
        assert_eq!(decompress(c, &packed, 1 << 20).unwrap(), zeros, "{c:?}");
    }
}

#[test]
fn a_batch_beyond_the_decode_limit_names_the_records_field() {
    for c in enabled() {
        let mut b = BatchBuilder::new(TS);
        b.append(TS, None, Some(&vec![b'a'; 100_000]), &[]).unwrap();
        let bytes = b.finish_compressed(c).unwrap();
        let err =
            RecordBatch::decode_all_limited(bytes.clone(), CrcCheck::Verify, 50_000).unwrap_err();
        assert!(
            matches!(
                err.kind,
                DecodeErrorKind::DecompressedTooLarge { limit: 50_000, .. }
            ),
            "{c:?}: {err}"
        );
        assert_eq!((err.field, err.offset), ("records", 61));
        assert!(RecordBatch::decode_all(bytes, CrcCheck::Verify).is_ok());
    }
}

#[test]
fn garbage_in_a_compressed_batch_is_a_decompression_error() {
    for c in enabled() {
        let mut bytes = builder(5).finish_compressed(c).unwrap().to_vec();
        for b in &mut bytes[61..] {
            *b = 0xa5;
        }
        let err = RecordBatch::decode_all(Bytes::from(bytes), CrcCheck::Skip).unwrap_err();
        assert!(
            matches!(err.kind, DecodeErrorKind::Decompression { .. }),
            "{c:?}: {err}"
        );
        assert_eq!(err.offset, 61);
    }
}

#[test]
fn a_record_count_that_the_decompressed_records_do_not_fill_is_an_error() {
    for c in enabled() {
        let mut bytes = builder(3).finish_compressed(c).unwrap().to_vec();
        bytes[60] = 2; // records_count 3 → 2: one record left over
        let err = RecordBatch::decode_all(Bytes::from(bytes), CrcCheck::Skip).unwrap_err();
        assert!(
            matches!(err.kind, DecodeErrorKind::TrailingBytes { .. }),
            "{c:?}: {err}"
        );
        assert_eq!((err.field, err.offset), ("records", 61));
    }
}

#[test]
fn incompressible_records_still_round_trip() {
    let value = noise(200_000);
    for c in enabled() {
        let mut b = BatchBuilder::new(TS);
        b.append(TS, None, Some(&value), &[]).unwrap();
        let batch = RecordBatch::decode_all(b.finish_compressed(c).unwrap(), CrcCheck::Verify)
            .unwrap()
            .remove(0);
        assert_eq!(batch.records[0].value.as_deref(), Some(&value[..]), "{c:?}");
    }
}

#[cfg(feature = "gzip")]
mod gzip {
    use super::*;

    #[test]
    fn gzip_output_is_a_gzip_member() {
        let mut out = BytesMut::new();
        compress(Compression::Gzip, b"records", &mut out).unwrap();
        assert_eq!(&out[..3], &[0x1f, 0x8b, 8]);
    }

    #[test]
    fn gzip_reads_concatenated_members_as_java_does() {
        let mut out = BytesMut::new();
        compress(Compression::Gzip, b"first ", &mut out).unwrap();
        compress(Compression::Gzip, b"second", &mut out).unwrap();
        assert_eq!(
            decompress(Compression::Gzip, &out, 100).unwrap(),
            b"first second"
        );
    }
}

#[cfg(feature = "snappy")]
mod snappy {
    use super::*;

    const HEADER: [u8; 16] = [
        0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1,
    ];

    #[test]
    fn snappy_is_written_in_xerial_framing_with_32_kib_blocks() {
        let input = noise(70_000);
        let mut out = BytesMut::new();
        compress(Compression::Snappy, &input, &mut out).unwrap();
        assert_eq!(out[..16], HEADER);
        let mut rest = &out[16..];
        let mut blocks = Vec::new();
        while !rest.is_empty() {
            let len = i32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
            let block = &rest[4..4 + len];
            blocks.push(snap::raw::decompress_len(block).unwrap());
            rest = &rest[4 + len..];
        }
        assert_eq!(blocks, vec![32 * 1024, 32 * 1024, 70_000 - 64 * 1024]);
    }

    #[test]
    fn snappy_reads_one_raw_block_without_framing_as_snappy_java_does() {
        let raw = snap::raw::Encoder::new()
            .compress_vec(b"unframed snappy")
            .unwrap();
        assert_eq!(
            decompress(Compression::Snappy, &raw, 100).unwrap(),
            b"unframed snappy"
        );
    }

    #[test]
    fn snappy_reads_concatenated_xerial_streams() {
        let mut out = BytesMut::new();
        compress(Compression::Snappy, b"first ", &mut out).unwrap();
        compress(Compression::Snappy, b"second", &mut out).unwrap();
        assert_eq!(
            decompress(Compression::Snappy, &out, 100).unwrap(),
            b"first second"
        );
    }

    #[test]
    fn a_snappy_block_longer_than_the_input_is_refused() {
        let mut framed = HEADER.to_vec();
        framed.extend_from_slice(&1000i32.to_be_bytes());
        framed.extend_from_slice(b"short");
        let err = decompress(Compression::Snappy, &framed, 1 << 20).unwrap_err();
        assert!(
            matches!(err, DecodeErrorKind::Decompression { .. }),
            "{err}"
        );
    }

    #[test]
    fn a_snappy_block_stating_a_huge_size_is_refused_before_allocating() {
        // Preamble varint 0xffffffff (4 GiB - 1), then nothing.
        let raw = [0xff, 0xff, 0xff, 0xff, 0x0f];
        let err = decompress(Compression::Snappy, &raw, 1 << 20).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeErrorKind::DecompressedTooLarge { .. }
                    | DecodeErrorKind::Decompression { .. }
            ),
            "{err}"
        );
    }

    #[test]
    fn trailing_bytes_after_the_last_snappy_block_are_an_error() {
        let mut out = BytesMut::new();
        compress(Compression::Snappy, b"records", &mut out).unwrap();
        out.extend_from_slice(&[0, 0]);
        let err = decompress(Compression::Snappy, &out, 100).unwrap_err();
        assert!(
            matches!(err, DecodeErrorKind::Decompression { .. }),
            "{err}"
        );
    }
}

#[cfg(feature = "lz4")]
mod lz4 {
    use super::*;

    #[test]
    fn lz4_is_an_lz4_frame_with_independent_64_kib_blocks() {
        let mut out = BytesMut::new();
        compress(Compression::Lz4, b"records", &mut out).unwrap();
        assert_eq!(&out[..4], &[0x04, 0x22, 0x4d, 0x18]);
        let (flg, bd) = (out[4], out[5]);
        assert_eq!(flg >> 6, 0b01, "version");
        assert_ne!(flg & 0x20, 0, "block independence");
        assert_eq!((bd >> 4) & 0x7, 4, "64 KiB blocks");
    }

    #[test]
    fn an_lz4_frame_with_dependent_blocks_is_refused_as_kafka_does() {
        let info = lz4_flex::frame::FrameInfo::new().block_mode(lz4_flex::frame::BlockMode::Linked);
        let mut enc = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
        std::io::Write::write_all(&mut enc, b"linked blocks").unwrap();
        let framed = enc.finish().unwrap();
        let err = decompress(Compression::Lz4, &framed, 100).unwrap_err();
        assert!(
            matches!(&err, DecodeErrorKind::Decompression { detail, .. } if detail.contains("dependent")),
            "{err}"
        );
    }

    #[test]
    fn a_damaged_lz4_header_checksum_is_refused() {
        let mut out = BytesMut::new();
        compress(Compression::Lz4, b"records", &mut out).unwrap();
        out[6] ^= 0xff; // HC byte of a descriptor without content size
        let err = decompress(Compression::Lz4, &out, 100).unwrap_err();
        assert!(
            matches!(err, DecodeErrorKind::Decompression { .. }),
            "{err}"
        );
    }
}

#[cfg(feature = "zstd")]
mod zstd {
    use super::*;

    #[test]
    fn zstd_output_is_a_zstd_frame() {
        let mut out = BytesMut::new();
        compress(Compression::Zstd, b"records", &mut out).unwrap();
        assert_eq!(&out[..4], &[0x28, 0xb5, 0x2f, 0xfd]);
    }

    #[test]
    fn a_zstd_frame_asking_for_a_window_beyond_the_cap_is_refused() {
        // Frame header: magic, descriptor 0 (no content size, window descriptor follows),
        // window descriptor 0x88 = 2^(10+17) = 128 MiB, then a last raw block of 1 byte.
        let frame = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x88, 0x09, 0x00, 0x00, b'x'];
        let err = decompress(Compression::Zstd, &frame, 1 << 20).unwrap_err();
        assert!(
            matches!(err, DecodeErrorKind::Decompression { .. }),
            "{err}"
        );
        assert_eq!(
            decompress(Compression::Zstd, &frame, 1 << 27).unwrap(),
            b"x"
        );
    }
}
