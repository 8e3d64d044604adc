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

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use crate::compression::{self, DEFAULT_MAX_DECOMPRESSED};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::primitives::{varint_len, varlong_len, DecodeResult, Reader};

/// Bytes before the first record: the fixed batch header.
pub const RECORD_BATCH_OVERHEAD: usize = 61;
/// Bytes of the header not counted by the batch's length field (base offset and length).
pub const LOG_OVERHEAD: usize = 12;
/// Offset of the CRC field; the CRC covers everything from `CRC_OFFSET + 4` on.
const CRC_OFFSET: usize = 17;
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

/// The fixed header fields that are known only once all records are in.
struct BatchHeader {
    base_offset: i64,
    partition_leader_epoch: i32,
    attributes: i16,
    last_offset_delta: i32,
    base_timestamp: i64,
    max_timestamp: i64,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    records_count: usize,
}

impl BatchHeader {
    /// Writes the header over the placeholder at the start of `batch`, then the CRC.
    fn patch(&self, batch: &mut [u8]) -> Result<(), EncodeError> {
        let records_crc = kwire_crc32c::crc32c(&batch[RECORD_BATCH_OVERHEAD.min(batch.len())..]);
        self.patch_with_records_crc(batch, records_crc)
    }

    /// [`BatchHeader::patch`] for a batch whose records' CRC-32C (of the bytes after the
    /// header) is known already: the CRC is that of the header combined with it.
    fn patch_with_records_crc(
        &self,
        batch: &mut [u8],
        records_crc: u32,
    ) -> Result<(), EncodeError> {
        let too_long = |len| EncodeError::TooLong {
            field: "record_batch",
            len,
        };
        let length =
            i32::try_from(batch.len() - LOG_OVERHEAD).map_err(|_| too_long(batch.len()))?;
        let count = i32::try_from(self.records_count).map_err(|_| too_long(self.records_count))?;
        let mut h = &mut batch[..RECORD_BATCH_OVERHEAD];
        h.put_i64(self.base_offset);
        h.put_i32(length);
        h.put_i32(self.partition_leader_epoch);
        h.put_i8(2);
        h.put_u32(0);
        h.put_i16(self.attributes);
        h.put_i32(self.last_offset_delta);
        h.put_i64(self.base_timestamp);
        h.put_i64(self.max_timestamp);
        h.put_i64(self.producer_id);
        h.put_i16(self.producer_epoch);
        h.put_i32(self.base_sequence);
        h.put_i32(count);
        let header_crc = kwire_crc32c::crc32c(&batch[CRC_OFFSET + 4..RECORD_BATCH_OVERHEAD]);
        let records_len = (batch.len() - RECORD_BATCH_OVERHEAD) as u64;
        let crc = kwire_crc32c::crc32c_combine(header_crc, records_crc, records_len);
        batch[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
        Ok(())
    }
}

fn put_header_placeholder(buf: &mut BytesMut) {
    buf.put_bytes(0, RECORD_BATCH_OVERHEAD);
}

fn varint_field_len(len: Option<usize>) -> Result<(i32, usize), EncodeError> {
    match len {
        None => Ok((-1, 1)),
        Some(n) => {
            let v = i32::try_from(n).map_err(|_| EncodeError::TooLong {
                field: "record",
                len: n,
            })?;
            Ok((v, varint_len(v) + n))
        }
    }
}

/// A buffer that records are written into: a caller's `BytesMut`, or the `Vec` of a
/// [`BatchBuilder`], whose byte-wise writes are cheaper (a `BytesMut` checks and updates its
/// capacity and length on each small write, which dominated the encoding of small records).
trait RecordBuf: BufMut {
    fn reserve_bytes(&mut self, additional: usize);
}

impl RecordBuf for BytesMut {
    #[inline]
    fn reserve_bytes(&mut self, additional: usize) {
        self.reserve(additional);
    }
}

impl RecordBuf for Vec<u8> {
    #[inline]
    fn reserve_bytes(&mut self, additional: usize) {
        self.reserve(additional);
    }
}

/// Writes one record: its length, then its fields.
#[inline]
fn put_record<B: RecordBuf>(
    buf: &mut B,
    attributes: i8,
    timestamp_delta: i64,
    offset_delta: i32,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[RecordHeader],
) -> Result<(), EncodeError> {
    let (key_len, key_size) = varint_field_len(key.map(<[u8]>::len))?;
    let (value_len, value_size) = varint_field_len(value.map(<[u8]>::len))?;
    let header_count = i32::try_from(headers.len()).map_err(|_| EncodeError::TooLong {
        field: "record.headers",
        len: headers.len(),
    })?;
    let mut size = 1
        + varlong_len(timestamp_delta)
        + varint_len(offset_delta)
        + key_size
        + value_size
        + varint_len(header_count);
    for h in headers {
        size += varint_field_len(Some(h.key.len()))?.1;
        size += varint_field_len(h.value.as_ref().map(Bytes::len))?.1;
    }
    let size = i32::try_from(size).map_err(|_| EncodeError::TooLong {
        field: "record",
        len: size,
    })?;

    buf.reserve_bytes(size as usize + 5);
    put_zigzag32(buf, size);
    buf.put_u8(attributes as u8);
    put_uvarlong(
        buf,
        ((timestamp_delta << 1) ^ (timestamp_delta >> 63)) as u64,
    );
    put_zigzag32(buf, offset_delta);
    put_zigzag32(buf, key_len);
    if let Some(k) = key {
        buf.put_slice(k);
    }
    put_zigzag32(buf, value_len);
    if let Some(v) = value {
        buf.put_slice(v);
    }
    put_zigzag32(buf, header_count);
    for h in headers {
        put_zigzag32(buf, h.key.len() as i32);
        buf.put_slice(h.key.as_bytes());
        match &h.value {
            None => put_zigzag32(buf, -1),
            Some(v) => {
                put_zigzag32(buf, v.len() as i32);
                buf.put_slice(v);
            }
        }
    }
    Ok(())
}

/// [`put_record`] for the common record without headers and attributes, into a `Vec`: the
/// small fields before the key and before the value are gathered in a register and stored
/// in one write each, instead of a byte at a time (each byte write checks and updates the
/// vector's length). Falls back to [`put_record`] when a varint would take more than three
/// bytes (a delta, length or record size of 2^20 or more).
#[inline]
fn put_plain_record(
    buf: &mut Vec<u8>,
    timestamp_delta: i64,
    offset_delta: i32,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
) -> Result<(), EncodeError> {
    let key_len = key.map_or(0, <[u8]>::len);
    let value_len = value.map_or(0, <[u8]>::len);
    let timestamp = ((timestamp_delta << 1) ^ (timestamp_delta >> 63)) as u64;
    let offset = zigzag32(offset_delta);
    let key_field = if key.is_some() { 2 * key_len as u64 } else { 1 };
    let value_field = if value.is_some() {
        2 * value_len as u64
    } else {
        1
    };
    if (timestamp | offset | key_field | value_field) >= SHORT_VARINT_END {
        return put_record(buf, 0, timestamp_delta, offset_delta, key, value, &[]);
    }

    let timestamp = Word::varint(timestamp);
    let offset = Word::varint(offset);
    let key_field = Word::varint(key_field);
    let value_field = Word::varint(value_field);
    let size = 1
        + timestamp.len
        + offset.len
        + key_field.len
        + key_len as u64
        + value_field.len
        + value_len as u64
        + 1;
    if 2 * size >= SHORT_VARINT_END {
        return put_record(buf, 0, timestamp_delta, offset_delta, key, value, &[]);
    }

    buf.reserve(size as usize + 3 + 8);
    // Length, attributes (0), timestamp delta; offset delta, key length.
    Word::varint(2 * size)
        .then(Word::BYTE_ZERO)
        .then(timestamp)
        .write(buf);
    offset.then(key_field).write(buf);
    if let Some(k) = key {
        buf.extend_from_slice(k);
    }
    value_field.write(buf);
    if let Some(v) = value {
        buf.extend_from_slice(v);
    }
    buf.push(0); // no headers
    Ok(())
}

/// Unsigned varints below this take at most three bytes: the ones [`put_plain_record`]
/// writes through [`Word`].
const SHORT_VARINT_END: u64 = 1 << 21;

/// A zigzag-encoded `i32`, as VARINT writes it.
#[inline]
fn zigzag32(v: i32) -> u64 {
    ((v << 1) ^ (v >> 31)) as u32 as u64
}

/// Up to 8 bytes of varints, little-endian in a register.
#[derive(Clone, Copy)]
struct Word {
    bits: u64,
    len: u64,
}

impl Word {
    /// One zero byte.
    const BYTE_ZERO: Word = Word { bits: 0, len: 1 };

    /// The unsigned varint of `v`, below [`SHORT_VARINT_END`], without a loop or branches.
    #[inline(always)]
    fn varint(v: u64) -> Word {
        let more_than_one = u64::from(v >= 0x80);
        let more_than_two = u64::from(v >= 0x4000);
        let bits = (v & 0x7F | more_than_one << 7)
            | ((v >> 7) & 0x7F | more_than_two << 7) << 8
            | (v >> 14) << 16;
        Word {
            bits,
            len: 1 + more_than_one + more_than_two,
        }
    }

    /// These bytes followed by `next`'s; the two take at most 8 bytes together.
    #[inline(always)]
    fn then(self, next: Word) -> Word {
        Word {
            bits: self.bits | next.bits.wrapping_shl(8 * self.len as u32),
            len: self.len + next.len,
        }
    }

    /// Appends the bytes: all 8 in one store, then the vector cut back to the real ones.
    #[inline(always)]
    fn write(self, buf: &mut Vec<u8>) {
        let end = buf.len() + self.len as usize;
        buf.extend_from_slice(&self.bits.to_le_bytes());
        buf.truncate(end);
    }
}

/// Writes a zigzag VARINT into any buffer.
#[inline]
fn put_zigzag32<B: BufMut>(buf: &mut B, v: i32) {
    put_uvarlong(buf, ((v << 1) ^ (v >> 31)) as u32 as u64);
}

#[inline]
fn put_uvarlong<B: BufMut>(buf: &mut B, mut v: u64) {
    while v >= 0x80 {
        buf.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    buf.put_u8(v as u8);
}

/// Bytes of records a [`BatchBuilder`] lets pile up before adding them to its CRC: small
/// enough that they are still in the CPU's first-level cache, large enough that the CRC
/// runs at full speed.
const CRC_CHUNK: usize = 8 * 1024;

/// Builds a batch as a producer sends it: base offset 0, leader epoch -1, no producer id,
/// offsets 0, 1, 2, … in order; uncompressed, or compressed by
/// [`BatchBuilder::finish_compressed`].
#[derive(Debug)]
pub struct BatchBuilder {
    buf: Vec<u8>,
    /// CRC-32C of the records in `buf[RECORD_BATCH_OVERHEAD..crc_end]`, computed a chunk at
    /// a time while the bytes are still in the CPU's cache, and combined with the header's
    /// at the end.
    records_crc: u32,
    crc_end: usize,
    base_timestamp: i64,
    max_timestamp: i64,
    count: i32,
}

impl BatchBuilder {
    /// An empty batch whose first record has `base_timestamp` (ms since the epoch).
    pub fn new(base_timestamp: i64) -> Self {
        Self::with_capacity(base_timestamp, 1024)
    }

    /// Like [`BatchBuilder::new`], with room for `capacity` bytes before growing.
    pub fn with_capacity(base_timestamp: i64, capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity.max(RECORD_BATCH_OVERHEAD));
        buf.resize(RECORD_BATCH_OVERHEAD, 0);
        BatchBuilder {
            buf,
            records_crc: 0,
            crc_end: RECORD_BATCH_OVERHEAD,
            base_timestamp,
            max_timestamp: base_timestamp,
            count: 0,
        }
    }

    /// Bytes the batch takes so far.
    pub fn size(&self) -> usize {
        self.buf.len()
    }

    /// Records appended so far.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether no record was appended.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes a record would add to a batch (an upper bound within a few bytes).
    pub fn record_size_estimate(
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[RecordHeader],
    ) -> usize {
        let h: usize = headers
            .iter()
            .map(|h| 10 + h.key.len() + h.value.as_ref().map_or(0, Bytes::len))
            .sum();
        21 + key.map_or(0, <[u8]>::len) + value.map_or(0, <[u8]>::len) + h
    }

    /// Appends a record with `timestamp` (ms since the epoch).
    pub fn append(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[RecordHeader],
    ) -> Result<(), EncodeError> {
        let offset_delta = self.count;
        let timestamp_delta = timestamp.wrapping_sub(self.base_timestamp);
        if headers.is_empty() {
            put_plain_record(&mut self.buf, timestamp_delta, offset_delta, key, value)?;
        } else {
            put_record(
                &mut self.buf,
                0,
                timestamp_delta,
                offset_delta,
                key,
                value,
                headers,
            )?;
        }
        self.count += 1;
        self.max_timestamp = self.max_timestamp.max(timestamp);
        if self.buf.len() - self.crc_end >= CRC_CHUNK {
            self.records_crc =
                kwire_crc32c::crc32c_append(self.records_crc, &self.buf[self.crc_end..]);
            self.crc_end = self.buf.len();
        }
        Ok(())
    }

    /// Patches the header and CRC and returns the finished batch.
    pub fn finish(mut self) -> Result<Bytes, EncodeError> {
        let records_crc = kwire_crc32c::crc32c_append(self.records_crc, &self.buf[self.crc_end..]);
        self.header(Compression::None)
            .patch_with_records_crc(&mut self.buf, records_crc)?;
        Ok(Bytes::from(self.buf))
    }

    /// Compresses the records with `compression` into a new buffer behind the header, then
    /// patches the header (whose attributes name the codec) and the CRC of the final bytes.
    /// [`Compression::None`] is the same as [`BatchBuilder::finish`].
    ///
    /// # Errors
    ///
    /// [`EncodeError::CompressionNotEnabled`] when the codec's cargo feature is off.
    pub fn finish_compressed(self, compression: Compression) -> Result<Bytes, EncodeError> {
        if compression == Compression::None {
            return self.finish();
        }
        if !compression.is_enabled() {
            return Err(EncodeError::CompressionNotEnabled(compression.name()));
        }
        let records = &self.buf[RECORD_BATCH_OVERHEAD..];
        let mut out = BytesMut::with_capacity(RECORD_BATCH_OVERHEAD + records.len() / 2 + 64);
        put_header_placeholder(&mut out);
        compression::compress(compression, records, &mut out)?;
        self.header(compression).patch(&mut out)?;
        Ok(out.freeze())
    }

    /// The header of the records appended so far.
    fn header(&self, compression: Compression) -> BatchHeader {
        BatchHeader {
            base_offset: 0,
            partition_leader_epoch: -1,
            attributes: compression.attribute_bits(),
            last_offset_delta: self.count - 1,
            base_timestamp: self.base_timestamp,
            max_timestamp: self.max_timestamp,
            producer_id: -1,
            producer_epoch: -1,
            base_sequence: -1,
            records_count: self.count as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{hex, parse_hex};

    const TS: i64 = 1_700_000_000_000;

    const VECTOR_A: &str = "0000000000000000 0000003a ffffffff 02 bbcc4115 0000 00000000 \
        0000018bcfe56800 0000018bcfe56800 ffffffffffffffff ffff ffffffff 00000001 \
        10 00 00 00 01 04 6869 00";

    const VECTOR_B: &str = "0000000000000000 00000049 ffffffff 02 f1759baf 0000 00000001 \
        0000018bcfe56800 0000018bcfe56805 ffffffffffffffff ffff ffffffff 00000002 \
        1c 00 00 00 04 6b31 04 7631 02 02 68 02 78 10 00 0a 02 04 6b32 01 00";

    fn header(key: &str, value: &[u8]) -> RecordHeader {
        RecordHeader {
            key: key.into(),
            value: Some(Bytes::copy_from_slice(value)),
        }
    }

    #[test]
    fn a_one_record_batch_matches_reference_vector_a() {
        let mut b = BatchBuilder::new(TS);
        b.append(TS, None, Some(b"hi"), &[]).unwrap();
        let batch = b.finish().unwrap();
        assert_eq!(hex(&batch), hex(&parse_hex(VECTOR_A).unwrap()));
    }

    #[test]
    fn a_tombstone_with_headers_matches_reference_vector_b() {
        let mut b = BatchBuilder::new(TS);
        b.append(TS, Some(b"k1"), Some(b"v1"), &[header("h", b"x")])
            .unwrap();
        b.append(TS + 5, Some(b"k2"), None, &[]).unwrap();
        let batch = b.finish().unwrap();
        assert_eq!(hex(&batch), hex(&parse_hex(VECTOR_B).unwrap()));
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
    fn null_and_empty_keys_and_values_are_four_different_things() {
        let mut b = BatchBuilder::new(TS);
        b.append(TS, None, None, &[]).unwrap();
        b.append(TS, Some(b""), Some(b""), &[]).unwrap();
        let batch = RecordBatch::decode_all(b.finish().unwrap(), CrcCheck::Verify).unwrap();
        let r = &batch[0].records;
        assert_eq!((r[0].key.clone(), r[0].value.clone()), (None, None));
        assert_eq!(r[1].key.as_deref(), Some(&b""[..]));
        assert_eq!(r[1].value.as_deref(), Some(&b""[..]));
    }

    #[test]
    fn duplicate_and_null_headers_keep_their_order() {
        let headers = vec![
            header("a", b"1"),
            RecordHeader {
                key: "a".into(),
                value: None,
            },
            header("", b""),
        ];
        let mut b = BatchBuilder::new(TS);
        b.append(TS, None, Some(b"v"), &headers).unwrap();
        let batch = RecordBatch::decode_all(b.finish().unwrap(), CrcCheck::Verify).unwrap();
        assert_eq!(batch[0].records[0].headers, headers);
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

    #[test]
    fn timestamp_deltas_beyond_two_to_the_31_ms_round_trip() {
        let later = TS + (1i64 << 33);
        let mut b = BatchBuilder::new(TS);
        b.append(later, None, Some(b"x"), &[]).unwrap();
        let batch = RecordBatch::decode_all(b.finish().unwrap(), CrcCheck::Verify).unwrap();
        assert_eq!(batch[0].records[0].timestamp_delta, 1i64 << 33);
        assert_eq!(batch[0].max_timestamp, later);
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
