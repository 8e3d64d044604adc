//! Compression of a RecordBatch's records section: the four codecs Kafka allows, each behind a
//! cargo feature of this crate that is off by default.
//!
//! With compression, the bytes after `records_count` are one codec stream holding all the
//! records, written exactly as an uncompressed batch would hold them; the header (and so
//! `records_count`) stays uncompressed, and the CRC covers the compressed bytes. The framing of
//! each codec is the one the Java broker reads:
//!
//! | codec | feature | crate | written | read |
//! |---|---|---|---|---|
//! | gzip | `gzip` | flate2 (miniz_oxide, pure Rust) | one gzip member, level 6 | one or more members |
//! | snappy | `snappy` | snap (pure Rust) | xerial framing, 32 KiB blocks | xerial framing, or one raw snappy block |
//! | lz4 | `lz4` | lz4_flex (pure Rust) | LZ4 frame, independent 64 KiB blocks | LZ4 frame with independent blocks |
//! | zstd | `zstd` | zstd (C reference library) | one zstd frame, level 3 | zstd frames |
//!
//! Levels are Kafka's defaults (`compression.gzip.level` 6 — Java's default deflate level —
//! and `compression.zstd.level` 3); snappy and lz4_flex have no levels.
//!
//! **Snappy.** Kafka's broker wraps snappy records in snappy-java's `SnappyInputStream`.
//! That stream reads the xerial framing (8-byte magic `82 53 4e 41 50 50 59 00`, INT32
//! version, INT32 compatible version, then blocks of INT32 length + raw snappy; a magic in
//! place of a block length starts a concatenated stream), and when the input does not start
//! with the magic it decompresses the whole input as one raw snappy block. This module
//! reads both the same way and always writes the framing, as Kafka's producer does.
//!
//! **LZ4.** Kafka's `Lz4BlockInputStream` rejects frames whose blocks are not independent and
//! checks the descriptor's header checksum; so does this module (by checking the descriptor
//! flags before handing the frame to lz4_flex).
//!
//! **Zstandard.** The zstd crate binds the reference C library (built from source by
//! `zstd-sys` with the C compiler that Rust's linker already needs). The pure-Rust `ruzstd`
//! 0.9 was measured as the alternative on 1 MB of JSON-like records: its encoder implements
//! only the "fastest" level, compressed 4.4× slower than the C library at level 1 with output
//! 19 % larger, and decompressed 4.4× slower. A producer spends its CPU in compression, so
//! the C library was chosen.
//!
//! # Decompression bombs
//!
//! Decompression never produces more than a caller-given limit
//! ([`DEFAULT_MAX_DECOMPRESSED`], 64 MiB, unless the caller chose another through
//! [`RecordBatch::decode_limited`](crate::record::RecordBatch::decode_limited)): output stops
//! at the limit and decoding fails with [`DecodeErrorKind::DecompressedTooLarge`]. Snappy
//! blocks state their decompressed size, which is checked before anything is allocated. The
//! zstd window is capped at the limit (but at least 8 MiB, the window of every level up to
//! 19), so a frame cannot make the decoder allocate a huge window either. Memory use is then
//! bounded by about twice the limit.
//!
//! # References
//!
//! - `compress/{Gzip,Snappy,Lz4,Zstd}Compression.java`, `Lz4BlockInputStream.java` in
//!   apache/kafka; `SnappyInputStream.java` and `SnappyOutputStream.java` in
//!   xerial/snappy-java
//! - RFC 1952 (gzip), the LZ4 frame format specification, RFC 8878 (Zstandard)
//! - KIP-110 (zstd), KIP-390 (compression levels)

use bytes::BytesMut;

pub use crate::record::Compression;

use crate::error::{DecodeErrorKind, EncodeError};

/// The default cap on the decompressed size of one batch's records: 64 MiB, 64 times the
/// broker's default `message.max.bytes`.
pub const DEFAULT_MAX_DECOMPRESSED: usize = 64 * 1024 * 1024;

impl Compression {
    /// Whether this build can compress and decompress with this codec: always for
    /// [`Compression::None`], otherwise when the codec's cargo feature is enabled.
    pub const fn is_enabled(self) -> bool {
        match self {
            Compression::None => true,
            Compression::Gzip => cfg!(feature = "gzip"),
            Compression::Snappy => cfg!(feature = "snappy"),
            Compression::Lz4 => cfg!(feature = "lz4"),
            Compression::Zstd => cfg!(feature = "zstd"),
        }
    }

    /// The codec's bits for a batch's attributes (bits 0–2).
    pub const fn attribute_bits(self) -> i16 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }
}

/// Appends `input` compressed with `compression` to `out`. [`Compression::None`] appends
/// `input` as it is.
///
/// # Errors
///
/// [`EncodeError::CompressionNotEnabled`] when the codec's feature is off;
/// [`EncodeError::Compression`] if the codec library fails.
pub fn compress(
    compression: Compression,
    input: &[u8],
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    match compression {
        Compression::None => {
            out.extend_from_slice(input);
            Ok(())
        }
        #[cfg(feature = "gzip")]
        Compression::Gzip => gzip::compress(input, out),
        #[cfg(feature = "snappy")]
        Compression::Snappy => snappy::compress(input, out),
        #[cfg(feature = "lz4")]
        Compression::Lz4 => lz4::compress(input, out),
        #[cfg(feature = "zstd")]
        Compression::Zstd => zstd::compress(input, out),
        #[allow(unreachable_patterns)]
        other => Err(EncodeError::CompressionNotEnabled(other.name())),
    }
}

/// Decompresses one records section compressed with `compression`, producing at most `limit`
/// bytes. [`Compression::None`] returns a copy of `input` (within the same limit).
///
/// # Errors
///
/// [`DecodeErrorKind::CompressionNotEnabled`] when the codec's feature is off,
/// [`DecodeErrorKind::DecompressedTooLarge`] beyond `limit`, and
/// [`DecodeErrorKind::Decompression`] for input that is not a valid stream of the codec.
pub fn decompress(
    compression: Compression,
    input: &[u8],
    limit: usize,
) -> Result<Vec<u8>, DecodeErrorKind> {
    match compression {
        Compression::None if input.len() > limit => Err(DecodeErrorKind::DecompressedTooLarge {
            codec: compression.name(),
            limit,
        }),
        Compression::None => Ok(input.to_vec()),
        #[cfg(feature = "gzip")]
        Compression::Gzip => gzip::decompress(input, limit),
        #[cfg(feature = "snappy")]
        Compression::Snappy => snappy::decompress(input, limit),
        #[cfg(feature = "lz4")]
        Compression::Lz4 => lz4::decompress(input, limit),
        #[cfg(feature = "zstd")]
        Compression::Zstd => zstd::decompress(input, limit),
        #[allow(unreachable_patterns)]
        other => Err(DecodeErrorKind::CompressionNotEnabled(other.name())),
    }
}

/// Helpers shared by the codecs that work through `std::io` streams.
#[cfg(any(feature = "gzip", feature = "lz4", feature = "zstd"))]
mod stream {
    use std::io::Read;

    use crate::error::{DecodeErrorKind, EncodeError};

    /// Reads `reader` to its end, failing once it yields more than `limit` bytes.
    pub(super) fn read_bounded(
        reader: impl Read,
        codec: &'static str,
        input_len: usize,
        limit: usize,
    ) -> Result<Vec<u8>, DecodeErrorKind> {
        // Records compress a few times at most; start there and let the vector grow.
        let mut out = Vec::with_capacity(input_len.saturating_mul(4).min(limit));
        let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
        reader
            .take(cap)
            .read_to_end(&mut out)
            .map_err(|e| corrupt(codec, e))?;
        if out.len() > limit {
            return Err(DecodeErrorKind::DecompressedTooLarge { codec, limit });
        }
        Ok(out)
    }

    /// A decoding error from a codec library's report.
    pub(super) fn corrupt(codec: &'static str, e: impl std::fmt::Display) -> DecodeErrorKind {
        DecodeErrorKind::Decompression {
            codec,
            detail: e.to_string(),
        }
    }

    /// An encoding error from a codec library's report.
    pub(super) fn failed(codec: &'static str, e: impl std::fmt::Display) -> EncodeError {
        EncodeError::Compression {
            codec,
            detail: e.to_string(),
        }
    }
}

#[cfg(feature = "gzip")]
mod gzip {
    use std::io::Write;

    use bytes::{BufMut, BytesMut};
    use flate2::read::MultiGzDecoder;
    use flate2::write::GzEncoder;

    use super::stream::{failed, read_bounded};
    use crate::error::{DecodeErrorKind, EncodeError};

    /// Kafka's default `compression.gzip.level`.
    const LEVEL: u32 = 6;

    pub(super) fn compress(input: &[u8], out: &mut BytesMut) -> Result<(), EncodeError> {
        out.reserve(input.len() / 2 + 32);
        let mut encoder = GzEncoder::new(out.writer(), flate2::Compression::new(LEVEL));
        encoder.write_all(input).map_err(|e| failed("gzip", e))?;
        encoder.finish().map_err(|e| failed("gzip", e))?;
        Ok(())
    }

    /// Reads every gzip member, as Java's `GZIPInputStream` does.
    pub(super) fn decompress(input: &[u8], limit: usize) -> Result<Vec<u8>, DecodeErrorKind> {
        read_bounded(MultiGzDecoder::new(input), "gzip", input.len(), limit)
    }
}

#[cfg(feature = "snappy")]
mod snappy {
    use bytes::{BufMut, BytesMut};

    use crate::error::{DecodeErrorKind, EncodeError};

    /// The xerial stream magic: `0x82` then `SNAPPY` and a zero byte.
    const MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
    /// Magic, INT32 version, INT32 compatible version.
    const HEADER_LEN: usize = 16;
    /// What snappy-java writes (and the oldest version it reads).
    const VERSION: i32 = 1;
    /// snappy-java's default block size, which Kafka's producer uses.
    const BLOCK_SIZE: usize = 32 * 1024;

    fn corrupt(detail: impl Into<String>) -> DecodeErrorKind {
        DecodeErrorKind::Decompression {
            codec: "snappy",
            detail: detail.into(),
        }
    }

    pub(super) fn compress(input: &[u8], out: &mut BytesMut) -> Result<(), EncodeError> {
        let blocks = input.len().div_ceil(BLOCK_SIZE);
        out.reserve(HEADER_LEN + input.len() / 2 + blocks * 4);
        out.put_slice(&MAGIC);
        out.put_i32(VERSION);
        out.put_i32(VERSION);
        let mut encoder = snap::raw::Encoder::new();
        for block in input.chunks(BLOCK_SIZE) {
            let at = out.len();
            out.resize(at + 4 + snap::raw::max_compress_len(block.len()), 0);
            let n = encoder.compress(block, &mut out[at + 4..]).map_err(|e| {
                EncodeError::Compression {
                    codec: "snappy",
                    detail: e.to_string(),
                }
            })?;
            out.truncate(at + 4 + n);
            // A block of at most 32 KiB compresses to far less than 2 GiB.
            out[at..at + 4].copy_from_slice(&(n as i32).to_be_bytes());
        }
        Ok(())
    }

    /// Reads the xerial framing, or one raw snappy block when the input does not start with
    /// the magic (what snappy-java's `SnappyInputStream` does).
    pub(super) fn decompress(input: &[u8], limit: usize) -> Result<Vec<u8>, DecodeErrorKind> {
        if input.len() < HEADER_LEN || input[..MAGIC.len()] != MAGIC {
            let mut out = Vec::new();
            append_block(input, &mut out, limit)?;
            return Ok(out);
        }
        let mut out = Vec::new();
        let mut rest = &input[HEADER_LEN..];
        while !rest.is_empty() {
            let Some((len, after)) = rest.split_first_chunk::<4>() else {
                return Err(corrupt(format!(
                    "{} bytes after the last block, too few for a block length",
                    rest.len()
                )));
            };
            if len[..] == MAGIC[..4] {
                // Another stream concatenated to this one: skip its header.
                if rest.len() < HEADER_LEN || rest[..MAGIC.len()] != MAGIC {
                    return Err(corrupt(
                        "a block length that looks like a damaged stream header",
                    ));
                }
                rest = &rest[HEADER_LEN..];
                continue;
            }
            let len = i32::from_be_bytes(*len);
            let Some(block) = usize::try_from(len).ok().and_then(|n| after.get(..n)) else {
                return Err(corrupt(format!(
                    "block length {len} with {} bytes remaining",
                    after.len()
                )));
            };
            append_block(block, &mut out, limit)?;
            rest = &after[block.len()..];
        }
        Ok(out)
    }

    /// Decompresses one raw snappy block onto the end of `out`, checking the size the block
    /// states against `limit` before allocating.
    fn append_block(block: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<(), DecodeErrorKind> {
        let n = snap::raw::decompress_len(block).map_err(|e| corrupt(e.to_string()))?;
        if n > limit.saturating_sub(out.len()) {
            return Err(DecodeErrorKind::DecompressedTooLarge {
                codec: "snappy",
                limit,
            });
        }
        let at = out.len();
        out.resize(at + n, 0);
        let written = snap::raw::Decoder::new()
            .decompress(block, &mut out[at..])
            .map_err(|e| corrupt(e.to_string()))?;
        if written != n {
            return Err(corrupt(format!(
                "block states {n} bytes but holds {written}"
            )));
        }
        Ok(())
    }
}

#[cfg(feature = "lz4")]
mod lz4 {
    use std::io::Write;

    use bytes::{BufMut, BytesMut};
    use lz4_flex::frame::{BlockMode, BlockSize, FrameDecoder, FrameEncoder, FrameInfo};

    use super::stream::{corrupt, failed, read_bounded};
    use crate::error::{DecodeErrorKind, EncodeError};

    /// The frame magic number, little-endian on the wire.
    const MAGIC: u32 = 0x184D_2204;
    /// FLG bits 7–6: the frame format version, which must be `01`.
    const FLG_VERSION: u8 = 0b1100_0000;
    /// FLG bit 5: blocks are independent.
    const FLG_INDEPENDENT: u8 = 0b0010_0000;

    pub(super) fn compress(input: &[u8], out: &mut BytesMut) -> Result<(), EncodeError> {
        out.reserve(input.len() / 2 + 32);
        let info = FrameInfo::new()
            .block_size(BlockSize::Max64KB)
            .block_mode(BlockMode::Independent);
        let mut encoder = FrameEncoder::with_frame_info(info, out.writer());
        encoder.write_all(input).map_err(|e| failed("lz4", e))?;
        encoder.finish().map_err(|e| failed("lz4", e))?;
        Ok(())
    }

    /// Reads an LZ4 frame, refusing dependent blocks as Kafka's broker does.
    pub(super) fn decompress(input: &[u8], limit: usize) -> Result<Vec<u8>, DecodeErrorKind> {
        let Some((magic, rest)) = input.split_first_chunk::<4>() else {
            return Err(corrupt("lz4", "shorter than a frame's magic number"));
        };
        if u32::from_le_bytes(*magic) != MAGIC {
            return Err(corrupt("lz4", "not an LZ4 frame (wrong magic number)"));
        }
        let flg = rest.first().copied().unwrap_or(0);
        if flg & FLG_VERSION != 0b0100_0000 {
            return Err(corrupt("lz4", "frame version is not 01"));
        }
        if flg & FLG_INDEPENDENT == 0 {
            return Err(corrupt(
                "lz4",
                "frame has dependent blocks, which Kafka does not accept",
            ));
        }
        read_bounded(FrameDecoder::new(input), "lz4", input.len(), limit)
    }
}

#[cfg(feature = "zstd")]
mod zstd {
    use bytes::{BufMut, BytesMut};

    use super::stream::{corrupt, failed, read_bounded};
    use crate::error::{DecodeErrorKind, EncodeError};

    /// Kafka's default `compression.zstd.level`.
    const LEVEL: i32 = 3;
    /// The smallest window cap: 8 MiB, enough for the windows of levels up to 19.
    const MIN_WINDOW_LOG: u32 = 23;
    /// The largest window zstd decodes by default (`ZSTD_WINDOWLOG_LIMIT_DEFAULT`).
    const MAX_WINDOW_LOG: u32 = 27;

    pub(super) fn compress(input: &[u8], out: &mut BytesMut) -> Result<(), EncodeError> {
        out.reserve(input.len() / 2 + 32);
        let mut encoder = zstd::stream::write::Encoder::new(out.writer(), LEVEL)
            .map_err(|e| failed("zstd", e))?;
        std::io::Write::write_all(&mut encoder, input).map_err(|e| failed("zstd", e))?;
        encoder.finish().map_err(|e| failed("zstd", e))?;
        Ok(())
    }

    pub(super) fn decompress(input: &[u8], limit: usize) -> Result<Vec<u8>, DecodeErrorKind> {
        let mut decoder =
            zstd::stream::read::Decoder::with_buffer(input).map_err(|e| corrupt("zstd", e))?;
        let window_log = usize::BITS - limit.saturating_sub(1).leading_zeros();
        decoder
            .window_log_max(window_log.clamp(MIN_WINDOW_LOG, MAX_WINDOW_LOG))
            .map_err(|e| corrupt("zstd", e))?;
        read_bounded(decoder, "zstd", input.len(), limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_codec_reports_whether_this_build_has_it() {
        assert!(Compression::None.is_enabled());
        assert_eq!(Compression::Gzip.is_enabled(), cfg!(feature = "gzip"));
        assert_eq!(Compression::Zstd.is_enabled(), cfg!(feature = "zstd"));
    }

    #[test]
    fn attribute_bits_read_back_as_the_same_codec() {
        for c in [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            assert_eq!(Compression::from_attributes(c.attribute_bits()), Ok(c));
        }
    }

    #[test]
    fn an_uncompressed_section_beyond_the_limit_is_refused() {
        let err = decompress(Compression::None, &[0; 10], 9).unwrap_err();
        assert_eq!(
            err,
            DecodeErrorKind::DecompressedTooLarge {
                codec: "none",
                limit: 9
            }
        );
    }

    #[cfg(not(feature = "gzip"))]
    #[test]
    fn compressing_without_the_feature_is_a_typed_error() {
        let mut out = BytesMut::new();
        let err = compress(Compression::Gzip, b"records", &mut out).unwrap_err();
        assert_eq!(err, EncodeError::CompressionNotEnabled("gzip"));
        assert_eq!(
            decompress(Compression::Gzip, b"records", 100).unwrap_err(),
            DecodeErrorKind::CompressionNotEnabled("gzip")
        );
    }

    #[cfg(not(feature = "gzip"))]
    #[test]
    fn a_builder_asked_for_a_missing_codec_gives_a_typed_error() {
        let mut b = crate::record::BatchBuilder::new(0);
        b.append(0, None, Some(b"v"), &[]).unwrap();
        let err = b.finish_compressed(Compression::Gzip).unwrap_err();
        assert_eq!(err, EncodeError::CompressionNotEnabled("gzip"));

        let batch = crate::record::RecordBatch {
            attributes: Compression::Gzip.attribute_bits(),
            ..Default::default()
        };
        let err = batch.encode(&mut BytesMut::new()).unwrap_err();
        assert_eq!(err, EncodeError::CompressionNotEnabled("gzip"));
    }
}

#[cfg(all(
    test,
    any(
        feature = "gzip",
        feature = "snappy",
        feature = "lz4",
        feature = "zstd"
    )
))]
#[path = "compression_tests.rs"]
mod codec_tests;
