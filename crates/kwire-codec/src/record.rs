//! RecordBatch v2 (magic 2): the batch header, records with varint fields, record headers,
//! and the CRC-32C that covers everything from the attributes to the end of the batch.
//!
//! [`BatchBuilder`] writes a batch in one pass into its own buffer: it reserves the 61-byte
//! header, appends records as they come, then patches length, counts, timestamps and CRC.
//! [`RecordBatch`] is the decoded form, whose keys and values share the input buffer.
//!
//! # References
//!
//! - `DefaultRecordBatch.java`, `DefaultRecord.java` in apache/kafka
//! - KIP-98 (the v2 format), KIP-82 (record headers)

use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};

pub use crate::record_builder::BatchBuilder;

use crate::compression::{self, DEFAULT_MAX_DECOMPRESSED};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::primitives::{DecodeResult, Reader};
use crate::record_builder::{put_header_placeholder, put_record, BatchHeader};

/// Bytes before the first record: the fixed batch header.
pub const RECORD_BATCH_OVERHEAD: usize = 61;
/// Bytes of the header not counted by the batch's length field (base offset and length).
pub const LOG_OVERHEAD: usize = 12;
/// Offset of the CRC field; the CRC covers everything from `CRC_OFFSET + 4` on.
pub(crate) const CRC_OFFSET: usize = 17;
/// The smallest possible record: seven one-byte fields.
const MIN_RECORD_SIZE: usize = 7;

/// How a batch's records are compressed (attribute bits 0–2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip.
    Gzip,
    /// Snappy, in xerial framing.
    Snappy,
    /// LZ4 frame.
    Lz4,
    /// Zstandard (Produce v7+).
    Zstd,
}

impl Compression {
    /// The compression of a batch's attributes.
    pub fn from_attributes(attributes: i16) -> Result<Compression, u8> {
        match (attributes & 0x07) as u8 {
            0 => Ok(Compression::None),
            1 => Ok(Compression::Gzip),
            2 => Ok(Compression::Snappy),
            3 => Ok(Compression::Lz4),
            4 => Ok(Compression::Zstd),
            other => Err(other),
        }
    }

    /// Kafka's name for it (`gzip`).
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

/// A record header: a non-null UTF-8 key and a nullable value. A record's headers are an
/// ordered list in which keys may repeat.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordHeader {
    /// The header key (never null on the wire).
    pub key: String,
    /// The header value, or null.
    #[serde(with = "crate::json::opt_hex_bytes")]
    pub value: Option<Bytes>,
}

/// One decoded record.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Record {
    /// Record attributes (unused by Kafka, 0).
    pub attributes: i8,
    /// Timestamp minus the batch's base timestamp, in ms.
    pub timestamp_delta: i64,
    /// Offset minus the batch's base offset.
    pub offset_delta: i32,
    /// The key, or null. An empty key is not a null key.
    #[serde(with = "crate::json::opt_hex_bytes")]
    pub key: Option<Bytes>,
    /// The value, or null (a tombstone). An empty value is not a null value.
    #[serde(with = "crate::json::opt_hex_bytes")]
    pub value: Option<Bytes>,
    /// The headers, in order.
    pub headers: Vec<RecordHeader>,
}

/// A decoded RecordBatch v2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordBatch {
    /// Offset of the first record (0 when a producer sends it).
    pub base_offset: i64,
    /// Leader epoch stamped by the broker (-1 from a producer).
    pub partition_leader_epoch: i32,
    /// The CRC-32C the batch carries.
    pub crc: u32,
    /// Attribute bits: compression, timestamp type, transactional, control, delete horizon.
    pub attributes: i16,
    /// Offset delta of the last record.
    pub last_offset_delta: i32,
    /// Timestamp of the first record (or the delete horizon).
    pub base_timestamp: i64,
    /// Largest record timestamp.
    pub max_timestamp: i64,
    /// Idempotent producer id, or -1.
    pub producer_id: i64,
    /// Idempotent producer epoch, or -1.
    pub producer_epoch: i16,
    /// Sequence number of the first record, or -1.
    pub base_sequence: i32,
    /// The records.
    pub records: Vec<Record>,
}

impl Default for RecordBatch {
    fn default() -> Self {
        RecordBatch {
            base_offset: 0,
            partition_leader_epoch: -1,
            crc: 0,
            attributes: 0,
            last_offset_delta: -1,
            base_timestamp: 0,
            max_timestamp: 0,
            producer_id: -1,
            producer_epoch: -1,
            base_sequence: -1,
            records: Vec::new(),
        }
    }
}

/// Whether decoding checks the CRC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrcCheck {
    /// A mismatch is an error.
    Verify,
    /// The CRC is read but not checked (see [`RecordBatch::crc_is_valid`]).
    Skip,
}

impl RecordBatch {
    /// The compression named by the attributes.
    pub fn compression(&self) -> Result<Compression, u8> {
        Compression::from_attributes(self.attributes)
    }

    /// Writes the batch. Length, record count and CRC are computed from the contents; the
    /// `crc` field is ignored.
    ///
    /// When the attributes name a compression codec, the records are compressed with it, so
    /// a compressed batch that was decoded re-encodes to the same records but not always to
    /// the same bytes (another compressor, or another level, may have written them).
    ///
    /// # Errors
    ///
    /// [`EncodeError::CompressionNotEnabled`] when the codec's cargo feature is off,
    /// [`EncodeError::UnknownCompression`] for compression codes 5–7, and
    /// [`EncodeError::TooLong`] for a batch or field beyond what its length prefix holds.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let compression = self
            .compression()
            .map_err(EncodeError::UnknownCompression)?;
        if !compression.is_enabled() {
            return Err(EncodeError::CompressionNotEnabled(compression.name()));
        }
        let start = buf.len();
        put_header_placeholder(buf);
        // Compressed records are written to a scratch buffer, then compressed into `buf`.
        let mut scratch = BytesMut::new();
        let records_buf = match compression {
            Compression::None => &mut *buf,
            _ => &mut scratch,
        };
        for r in &self.records {
            put_record(
                records_buf,
                r.attributes,
                r.timestamp_delta,
                r.offset_delta,
                r.key.as_deref(),
                r.value.as_deref(),
                &r.headers,
            )?;
        }
        if compression != Compression::None {
            compression::compress(compression, &scratch, buf)?;
        }
        let header = BatchHeader {
            base_offset: self.base_offset,
            partition_leader_epoch: self.partition_leader_epoch,
            attributes: self.attributes,
            last_offset_delta: self.last_offset_delta,
            base_timestamp: self.base_timestamp,
            max_timestamp: self.max_timestamp,
            producer_id: self.producer_id,
            producer_epoch: self.producer_epoch,
            base_sequence: self.base_sequence,
            records_count: self.records.len(),
        };
        header.patch(&mut buf[start..])
    }

    /// Whether `crc` matches the batch bytes it was decoded from. Only meaningful right after
    /// decoding with [`CrcCheck::Skip`]; see [`RecordBatch::decode`].
    pub fn crc_is_valid(batch_bytes: &[u8]) -> bool {
        batch_bytes.len() >= RECORD_BATCH_OVERHEAD
            && u32::from_be_bytes(
                batch_bytes[CRC_OFFSET..CRC_OFFSET + 4]
                    .try_into()
                    .unwrap_or([0; 4]),
            ) == kwire_crc32c::crc32c(&batch_bytes[CRC_OFFSET + 4..])
    }

    /// Reads one batch from `r`, decompressing its records if it is compressed (with at most
    /// [`DEFAULT_MAX_DECOMPRESSED`] bytes of output).
    ///
    /// Record keys and values share the input buffer, or for a compressed batch the
    /// decompressed one. An error inside compressed records reports the offset where the
    /// compressed records start.
    pub fn decode(r: &mut Reader, check: CrcCheck) -> DecodeResult<RecordBatch> {
        Self::decode_limited(r, check, DEFAULT_MAX_DECOMPRESSED)
    }

    /// Like [`RecordBatch::decode`], with compressed records allowed to decompress to at most
    /// `max_decompressed` bytes; beyond that decoding stops with
    /// [`DecodeErrorKind::DecompressedTooLarge`].
    pub fn decode_limited(
        r: &mut Reader,
        check: CrcCheck,
        max_decompressed: usize,
    ) -> DecodeResult<RecordBatch> {
        let base_offset = r.i64("base_offset")?;
        let length_at = r.position();
        let length = r.i32("batch_length")?;
        let min_length = (RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) as i32;
        if length < min_length || length as usize > r.remaining() {
            return Err(DecodeError::new(
                DecodeErrorKind::InvalidLength {
                    length: i64::from(length),
                    remaining: r.remaining(),
                },
                length_at,
                "batch_length",
            ));
        }
        let body_at = r.position();
        let body = r.take(length as usize, "batch")?;
        decode_body(base_offset, body, check, max_decompressed).map_err(|e| e.shifted(body_at))
    }

    /// Reads every batch in a records field.
    pub fn decode_all(bytes: Bytes, check: CrcCheck) -> DecodeResult<Vec<RecordBatch>> {
        Self::decode_all_limited(bytes, check, DEFAULT_MAX_DECOMPRESSED)
    }

    /// Like [`RecordBatch::decode_all`], with the decompression limit of
    /// [`RecordBatch::decode_limited`] applied to each batch.
    pub fn decode_all_limited(
        bytes: Bytes,
        check: CrcCheck,
        max_decompressed: usize,
    ) -> DecodeResult<Vec<RecordBatch>> {
        let mut r = Reader::new(bytes);
        let mut out = Vec::new();
        while r.remaining() > 0 {
            out.push(RecordBatch::decode_limited(
                &mut r,
                check,
                max_decompressed,
            )?);
        }
        Ok(out)
    }
}

/// Decodes what follows the length field.
fn decode_body(
    base_offset: i64,
    body: Bytes,
    check: CrcCheck,
    max_decompressed: usize,
) -> DecodeResult<RecordBatch> {
    let mut r = Reader::new(body.clone());
    let partition_leader_epoch = r.i32("partition_leader_epoch")?;
    let magic_at = r.position();
    let magic = r.i8("magic")?;
    if magic != 2 {
        return Err(DecodeError::new(
            DecodeErrorKind::UnsupportedMagic(magic),
            magic_at,
            "magic",
        ));
    }
    let crc_at = r.position();
    let crc = r.u32("crc")?;
    if check == CrcCheck::Verify {
        let actual = kwire_crc32c::crc32c(&body[r.position()..]);
        if actual != crc {
            return Err(DecodeError::new(
                DecodeErrorKind::CrcMismatch {
                    expected: crc,
                    actual,
                },
                crc_at,
                "crc",
            ));
        }
    }
    let attributes_at = r.position();
    let mut batch = RecordBatch {
        base_offset,
        partition_leader_epoch,
        crc,
        attributes: r.i16("attributes")?,
        last_offset_delta: r.i32("last_offset_delta")?,
        base_timestamp: r.i64("base_timestamp")?,
        max_timestamp: r.i64("max_timestamp")?,
        producer_id: r.i64("producer_id")?,
        producer_epoch: r.i16("producer_epoch")?,
        base_sequence: r.i32("base_sequence")?,
        records: Vec::new(),
    };
    let compression = match batch.compression() {
        Ok(c) if c.is_enabled() => c,
        Ok(c) => {
            return Err(DecodeError::new(
                DecodeErrorKind::CompressionNotEnabled(c.name()),
                attributes_at,
                "attributes",
            ))
        }
        Err(code) => {
            return Err(DecodeError::new(
                DecodeErrorKind::UnknownCompression(code),
                attributes_at,
                "attributes",
            ))
        }
    };
    let count_at = r.position();
    let count = r.i32("records_count")?;
    if compression == Compression::None {
        batch.records = decode_records(&mut r, count, count_at)?;
        return Ok(batch);
    }
    let records_at = r.position();
    let raw = compression::decompress(compression, &body[records_at..], max_decompressed)
        .map_err(|kind| DecodeError::new(kind, records_at, "records"))?;
    let mut records = Reader::new(Bytes::from(raw));
    batch.records = decode_records(&mut records, count, count_at).map_err(|e| {
        // Offsets inside the decompressed records mean nothing in the input.
        let offset = if e.field == "records_count" {
            count_at
        } else {
            records_at
        };
        DecodeError { offset, ..e }
    })?;
    Ok(batch)
}

/// Reads `count` records that must fill `r` exactly.
fn decode_records(r: &mut Reader, count: i32, count_at: usize) -> DecodeResult<Vec<Record>> {
    if count < 0 || (count as usize).saturating_mul(MIN_RECORD_SIZE) > r.remaining() {
        return Err(DecodeError::new(
            DecodeErrorKind::InvalidLength {
                length: i64::from(count),
                remaining: r.remaining(),
            },
            count_at,
            "records_count",
        ));
    }
    let mut records = Vec::with_capacity(count as usize);
    for _ in 0..count {
        records.push(decode_record(r)?);
    }
    r.finish("records")?;
    Ok(records)
}

#[inline]
fn decode_record(r: &mut Reader) -> DecodeResult<Record> {
    let length_at = r.position();
    let length = r.varint("record.length")?;
    if length < 0 || length as usize > r.remaining() {
        return Err(DecodeError::new(
            DecodeErrorKind::InvalidLength {
                length: i64::from(length),
                remaining: r.remaining(),
            },
            length_at,
            "record.length",
        ));
    }
    // Read the fields in place, with the reader narrowed to the record's length.
    let end = r.limit(length as usize);
    let record = decode_record_fields(r)?;
    r.finish("record")?;
    r.unlimit(end);
    Ok(record)
}

#[inline(always)]
fn varint_bytes(r: &mut Reader, field: &'static str) -> DecodeResult<Option<Bytes>> {
    let at = r.position();
    let len = r.varint(field)?;
    if len == -1 {
        return Ok(None);
    }
    if len < 0 || len as usize > r.remaining() {
        return Err(DecodeError::new(
            DecodeErrorKind::InvalidLength {
                length: i64::from(len),
                remaining: r.remaining(),
            },
            at,
            field,
        ));
    }
    r.take(len as usize, field).map(Some)
}

#[inline]
fn decode_record_fields(r: &mut Reader) -> DecodeResult<Record> {
    let attributes = r.i8("record.attributes")?;
    let timestamp_delta = r.varlong("record.timestamp_delta")?;
    let offset_delta = r.varint("record.offset_delta")?;
    let key = varint_bytes(r, "record.key")?;
    let value = varint_bytes(r, "record.value")?;
    let count_at = r.position();
    let count = r.varint("record.headers_count")?;
    // A header takes at least two bytes: key length and value length.
    if count < 0 || (count as usize).saturating_mul(2) > r.remaining() {
        return Err(DecodeError::new(
            DecodeErrorKind::InvalidLength {
                length: i64::from(count),
                remaining: r.remaining(),
            },
            count_at,
            "record.headers_count",
        ));
    }
    let mut headers = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let key_at = r.position();
        let key = varint_bytes(r, "header.key")?.ok_or_else(|| {
            DecodeError::new(DecodeErrorKind::UnexpectedNull, key_at, "header.key")
        })?;
        let key = String::from_utf8(key.to_vec())
            .map_err(|_| DecodeError::new(DecodeErrorKind::InvalidUtf8, key_at, "header.key"))?;
        let value = varint_bytes(r, "header.value")?;
        headers.push(RecordHeader { key, value });
    }
    Ok(Record {
        attributes,
        timestamp_delta,
        offset_delta,
        key,
        value,
        headers,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use bytes::BufMut;

    use super::*;
    use crate::parse_hex;

    pub(crate) const TS: i64 = 1_700_000_000_000;

    pub(crate) const VECTOR_A: &str =
        "0000000000000000 0000003a ffffffff 02 bbcc4115 0000 00000000 \
        0000018bcfe56800 0000018bcfe56800 ffffffffffffffff ffff ffffffff 00000001 \
        10 00 00 00 01 04 6869 00";

    pub(crate) const VECTOR_B: &str =
        "0000000000000000 00000049 ffffffff 02 f1759baf 0000 00000001 \
        0000018bcfe56800 0000018bcfe56805 ffffffffffffffff ffff ffffffff 00000002 \
        1c 00 00 00 04 6b31 04 7631 02 02 68 02 78 10 00 0a 02 04 6b32 01 00";

    pub(crate) fn header(key: &str, value: &[u8]) -> RecordHeader {
        RecordHeader {
            key: key.into(),
            value: Some(Bytes::copy_from_slice(value)),
        }
    }

    #[test]
    fn reference_vector_b_decodes_to_its_records() {
        let bytes = Bytes::from(parse_hex(VECTOR_B).unwrap());
        let batches = RecordBatch::decode_all(bytes.clone(), CrcCheck::Verify).unwrap();
        assert_eq!(batches.len(), 1);
        let b = &batches[0];
        assert_eq!(b.crc, 0xf175_9baf);
        assert_eq!(b.last_offset_delta, 1);
        assert_eq!(b.records[0].key.as_deref(), Some(&b"k1"[..]));
        assert_eq!(b.records[0].headers, vec![header("h", b"x")]);
        assert_eq!(b.records[1].timestamp_delta, 5);
        assert_eq!(b.records[1].value, None);
        let mut out = BytesMut::new();
        b.encode(&mut out).unwrap();
        assert_eq!(&out[..], &bytes[..]);
    }

    #[test]
    fn a_flipped_crc_byte_is_reported_with_both_values() {
        let mut bytes = parse_hex(VECTOR_A).unwrap();
        bytes[20] ^= 0xff;
        let err =
            RecordBatch::decode_all(Bytes::from(bytes.clone()), CrcCheck::Verify).unwrap_err();
        assert!(matches!(
            err.kind,
            DecodeErrorKind::CrcMismatch {
                expected: 0xbbcc41ea,
                actual: 0xbbcc4115
            }
        ));
        assert_eq!(err.offset, 17);
        assert!(!RecordBatch::crc_is_valid(&bytes));
        assert!(RecordBatch::decode_all(Bytes::from(bytes), CrcCheck::Skip).is_ok());
    }

    #[test]
    fn a_header_key_of_length_minus_one_is_rejected() {
        // One record (9 bytes) whose only header has key length -1 (varint 01).
        let record = [0x12, 0, 0, 0, 0x01, 0x02, b'v', 0x02, 0x01, 0x01];
        let mut raw = BytesMut::new();
        put_header_placeholder(&mut raw);
        raw.put_slice(&record);
        BatchHeader {
            base_offset: 0,
            partition_leader_epoch: -1,
            attributes: 0,
            last_offset_delta: 0,
            base_timestamp: TS,
            max_timestamp: TS,
            producer_id: -1,
            producer_epoch: -1,
            base_sequence: -1,
            records_count: 1,
        }
        .patch(&mut raw)
        .unwrap();
        let err = RecordBatch::decode_all(raw.freeze(), CrcCheck::Verify).unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::UnexpectedNull);
        assert_eq!(err.field, "header.key");
    }

    #[cfg(not(feature = "gzip"))]
    #[test]
    fn a_compressed_batch_is_a_typed_error_not_garbage() {
        let mut bytes = parse_hex(VECTOR_A).unwrap();
        bytes[22] = 1; // gzip
        let crc = kwire_crc32c::crc32c(&bytes[21..]);
        bytes[17..21].copy_from_slice(&crc.to_be_bytes());
        let err = RecordBatch::decode_all(Bytes::from(bytes), CrcCheck::Verify).unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::CompressionNotEnabled("gzip"));
    }

    #[test]
    fn two_batches_in_one_records_field_both_decode() {
        let mut two = parse_hex(VECTOR_A).unwrap();
        two.extend(parse_hex(VECTOR_B).unwrap());
        let batches = RecordBatch::decode_all(Bytes::from(two), CrcCheck::Verify).unwrap();
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[1].records.len(), 2);
    }

    #[test]
    fn a_truncated_batch_names_the_length_field() {
        let bytes = parse_hex(VECTOR_A).unwrap();
        let err = RecordBatch::decode_all(Bytes::copy_from_slice(&bytes[..60]), CrcCheck::Verify)
            .unwrap_err();
        assert_eq!(err.field, "batch_length");
        assert_eq!(err.offset, 8);
    }
}
