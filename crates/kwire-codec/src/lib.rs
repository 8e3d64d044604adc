//! Kafka's binary protocol, by hand: bytes in, bytes out, no I/O.
//!
//! The crate covers what a producer needs, in both directions, so that it can play client,
//! test broker or wire decoder:
//!
//! - [`header`]: request and response headers, API keys, size-prefixed frames;
//! - [`api_versions`], [`metadata`], [`produce`]: one module per API, each message a plain
//!   struct implementing [`Message`];
//! - [`record`]: RecordBatch v2 with records, headers and CRC-32C;
//! - [`compression`]: gzip, snappy, lz4 and zstd for record batches, behind cargo features;
//! - [`primitives`]: the wire types underneath (varints, compact strings, tagged fields);
//! - [`error_code`]: every error code Kafka 4.4 defines;
//! - [`json`]: the serde helpers behind the JSON form described below.
//!
//! Decoding reads a [`bytes::Bytes`] and shares it: record keys and values are slices of the
//! received buffer, not copies. Every length and count is checked against the bytes that
//! remain before anything is allocated, and leftover bytes are an error.
//!
//! # JSON
//!
//! Every message, header and record type implements serde's `Serialize` and `Deserialize`,
//! for tools that show or edit protocol bytes (`kwire decode` and `kwire encode`). The JSON
//! object has one member per struct field, named as in the Kafka schema in snake_case
//! (`topic_data`, `partition_leader_epoch`). Values:
//!
//! - integers and booleans are JSON numbers and booleans; an error code is its `i16` number
//!   (`6`, not `"NOT_LEADER_OR_FOLLOWER"`), so codes newer than this table survive;
//! - strings are JSON strings, and a null string is `null`, apart from `""`;
//! - bytes (record keys and values, header values, a Produce partition's `records`, a raw
//!   tagged field's `data`) are lower-case hex strings (`"6869"`); null bytes are `null`,
//!   apart from the empty string `""` of empty bytes;
//! - a UUID (`topic_id`) is 32 lower-case hex digits;
//! - tagged fields the codec has no name for are `unknown_tagged_fields`, a list of
//!   `{"tag": 0, "data": "…"}`.
//!
//! Reading accepts JSON written by hand: a missing member takes the struct's
//! [`Default`] value (the schema's default), and an unknown member is an error. Hex may be
//! in either case and contain white space, and a UUID may contain `-`s.
//!
//! A message carries every field of every version; encoding at a version writes only the
//! fields that version has. [`record::RecordBatch`]'s `crc` is shown as decoded and ignored
//! by encoding, which computes it.
//!
//! # Features
//!
//! Compression codecs are optional, so that the default build links no codec library:
//!
//! | feature | codec | crate |
//! |---|---|---|
//! | `gzip` | gzip | `flate2` 1.1, pure-Rust `miniz_oxide` backend |
//! | `snappy` | snappy in snappy-java's xerial framing | `snap` 1.1 (pure Rust) |
//! | `lz4` | LZ4 frame, independent blocks | `lz4_flex` 0.14 (pure Rust, safe mode) |
//! | `zstd` | Zstandard | `zstd` 0.14 (the reference C library, compiled from source) |
//! | `compression` | all four | |
//!
//! With a codec's feature, [`record::RecordBatch::decode`] decompresses batches of that codec
//! (never beyond a size limit, 64 MiB by default) and
//! [`record::BatchBuilder::finish_compressed`] and [`record::RecordBatch::encode`] write
//! them. [`compression`] says which framing each codec uses and why `zstd` is not pure Rust.
//!
//! # Limitations
//!
//! - Without a codec's feature, a batch compressed with it is recognised but not
//!   decompressed: decoding gives [`DecodeErrorKind::CompressionNotEnabled`], and encoding
//!   one gives [`EncodeError::CompressionNotEnabled`].
//! - Compression levels are Kafka's defaults (gzip 6, zstd 3) and cannot be chosen.
//! - The decoder is strict: it accepts exactly the canonical encoding Kafka writes. A varint
//!   with a redundant trailing zero byte or a boolean other than 0/1 is
//!   [`DecodeErrorKind::NonCanonical`] (Kafka itself would read them). In return, every input
//!   the codec accepts re-encodes to the same bytes; a known tagged field sent at its default
//!   value (which Kafka never writes) is kept as a raw tagged field so that this holds.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api_versions;
pub mod compression;
pub mod error;
pub mod error_code;
pub mod header;
pub mod json;
pub mod metadata;
pub mod primitives;
pub mod produce;
pub mod record;
mod record_builder;

use bytes::{Bytes, BytesMut};

pub use error::{DecodeError, DecodeErrorKind, EncodeError};
pub use error_code::ErrorCode;
pub use header::{ApiKey, RequestHeader, ResponseHeader};
pub use primitives::{RawTaggedField, Reader, Uuid};

/// A request or response body of one API, encodable and decodable at every version from
/// `MIN_VERSION` to `MAX_VERSION`.
pub trait Message: Sized {
    /// The schema's name (`ProduceRequest`).
    const NAME: &'static str;
    /// The API key.
    const API_KEY: i16;
    /// Lowest version supported.
    const MIN_VERSION: i16;
    /// Highest version supported.
    const MAX_VERSION: i16;

    /// Writes the body at `version`, which the caller has checked is supported.
    fn encode_body(&self, version: i16, buf: &mut BytesMut) -> Result<(), EncodeError>;

    /// Reads a body at `version`, which the caller has checked is supported.
    fn decode_body(r: &mut Reader, version: i16) -> Result<Self, DecodeError>;

    /// Writes the body at `version`.
    fn encode(&self, version: i16, buf: &mut BytesMut) -> Result<(), EncodeError> {
        if !(Self::MIN_VERSION..=Self::MAX_VERSION).contains(&version) {
            return Err(EncodeError::UnsupportedVersion {
                message: Self::NAME,
                version,
                min: Self::MIN_VERSION,
                max: Self::MAX_VERSION,
            });
        }
        self.encode_body(version, buf)
    }

    /// Reads a whole body at `version`; bytes left over are an error.
    fn decode(body: Bytes, version: i16) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let out = Self::decode_from(&mut r, version)?;
        r.finish("_end")
            .map_err(|e| e.in_message(Self::NAME, version))?;
        Ok(out)
    }

    /// Reads a body at `version` from `r`, leaving `r` after it.
    fn decode_from(r: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        if !(Self::MIN_VERSION..=Self::MAX_VERSION).contains(&version) {
            return Err(r
                .error(
                    DecodeErrorKind::UnsupportedVersion {
                        version,
                        min: Self::MIN_VERSION,
                        max: Self::MAX_VERSION,
                    },
                    "_version",
                )
                .in_message(Self::NAME, version));
        }
        Self::decode_body(r, version).map_err(|e| e.in_message(Self::NAME, version))
    }
}

/// Writes a whole request frame: size prefix, header (of the version the API and version
/// call for) and body at `header.request_api_version`.
pub fn encode_request_frame<M: Message>(
    header: &RequestHeader,
    body: &M,
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    let version = header.request_api_version;
    let header_version = match ApiKey::from_code(M::API_KEY) {
        Some(k) => k.request_header_version(version),
        None => 1,
    };
    header::write_frame(buf, |buf| {
        header.encode(header_version, buf)?;
        body.encode(version, buf)
    })
}

/// Writes a whole response frame for `version` of `M`'s API.
pub fn encode_response_frame<M: Message>(
    header: &ResponseHeader,
    body: &M,
    version: i16,
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    let header_version = match ApiKey::from_code(M::API_KEY) {
        Some(k) => k.response_header_version(version),
        None => 0,
    };
    header::write_frame(buf, |buf| {
        header.encode(header_version, buf);
        body.encode(version, buf)
    })
}

/// Lower-case hex of `bytes`, for tests, logs and the command line.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// Parses hex (white space and `:` ignored, either case) into bytes.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b':')
        .collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    let value = |d: u8, at: usize| -> Result<u8, String> {
        (d as char)
            .to_digit(16)
            .map(|v| v as u8)
            .ok_or_else(|| format!("`{}` at digit {at} is not a hex digit", d as char))
    };
    digits
        .chunks(2)
        .enumerate()
        .map(|(i, pair)| Ok(value(pair[0], 2 * i)? << 4 | value(pair[1], 2 * i + 1)?))
        .collect()
}

/// A request body, tied to the response body that answers it.
pub trait Request: Message {
    /// The response body type.
    type Response: Message;
}

impl Request for api_versions::ApiVersionsRequest {
    type Response = api_versions::ApiVersionsResponse;
}

impl Request for metadata::MetadataRequest {
    type Response = metadata::MetadataResponse;
}

impl Request for produce::ProduceRequest {
    type Response = produce::ProduceResponse;
}
