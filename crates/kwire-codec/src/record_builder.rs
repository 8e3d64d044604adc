//! The writing side of RecordBatch v2, re-exported from [`crate::record`]: [`BatchBuilder`],
//! and the record writer and header patching it shares with
//! [`RecordBatch::encode`](crate::record::RecordBatch::encode).

use bytes::{BufMut, Bytes, BytesMut};

use crate::compression;
use crate::error::EncodeError;
use crate::primitives::{varint_len, varlong_len};
use crate::record::{Compression, RecordHeader, CRC_OFFSET, LOG_OVERHEAD, RECORD_BATCH_OVERHEAD};

/// The fixed header fields that are known only once all records are in.
pub(crate) struct BatchHeader {
    pub(crate) base_offset: i64,
    pub(crate) partition_leader_epoch: i32,
    pub(crate) attributes: i16,
    pub(crate) last_offset_delta: i32,
    pub(crate) base_timestamp: i64,
    pub(crate) max_timestamp: i64,
    pub(crate) producer_id: i64,
    pub(crate) producer_epoch: i16,
    pub(crate) base_sequence: i32,
    pub(crate) records_count: usize,
}

impl BatchHeader {
    /// Writes the header over the placeholder at the start of `batch`, then the CRC.
    pub(crate) fn patch(&self, batch: &mut [u8]) -> Result<(), EncodeError> {
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

pub(crate) fn put_header_placeholder(buf: &mut BytesMut) {
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
pub(crate) trait RecordBuf: BufMut {
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
pub(crate) fn put_record<B: RecordBuf>(
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

/// [`put_record`] for the common record without headers and attributes, at `*end` in a
/// [`BatchBuilder`]'s vector, which may hold initialized bytes of no meaning past `*end`.
///
/// A record of up to [`SMALL_RECORD`] bytes is written into that slack, which is grown by
/// [`SLACK_STEP`] bytes of zeros at a time: the small fields before the key and before the
/// value are gathered in registers and stored 8 bytes at once, short keys and values are
/// copied by a few moves instead of a call to `memcpy`, and the vector's length is not
/// touched, so the writing position stays in a register. A larger record's fields up to its
/// value are written the same way and its value appended to the vector cut back there.
/// A larger record with a long key or no value is appended field by field. Falls back to
/// [`put_record`] when a varint would take more than three bytes (a delta, length or record
/// size of 2^20 or more).
#[inline]
fn put_plain_record(
    buf: &mut Vec<u8>,
    end: &mut usize,
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
        return put_record_at_end(buf, end, timestamp_delta, offset_delta, key, value, &[]);
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
        return put_record_at_end(buf, end, timestamp_delta, offset_delta, key, value, &[]);
    }

    let length = Word::varint(2 * size);
    // Length, attributes (0), timestamp delta; offset delta, key length.
    let head = length.then(Word::BYTE_ZERO).then(timestamp);
    let head2 = offset.then(key_field);
    let total = (length.len + size) as usize;
    // Words write 8 bytes wherever they start; the room covers the last one's. A larger
    // record that fits in the slack left by small ones goes there too, so that records of
    // mixed sizes do not throw the slack away and zero it again each time.
    let room = total + 8;
    if total <= SMALL_RECORD || buf.len() - *end >= room {
        if buf.len() - *end < room {
            grow_slack(buf, *end + room);
        }
        let out = &mut buf[*end..*end + room];
        let at = store_prefix(out, head, head2, value_field, key);
        if let Some(v) = value {
            copy_short(&mut out[at..], v);
        }
        out[total - 1] = 0; // no headers
        *end += total;
        return Ok(());
    }

    let prefix = total - value_len - 1;
    if let (Some(v), true) = (value, prefix + 8 <= PREFIX_ROOM) {
        // A large value behind a short prefix: the prefix is written like a small record,
        // into a constant-size block of zeros, and the value appended to it, so the vector's
        // length changes four times per record instead of once per field.
        buf.truncate(*end);
        buf.reserve(total + PREFIX_ROOM);
        buf.extend_from_slice(&[0; PREFIX_ROOM]);
        let at = store_prefix(&mut buf[*end..], head, head2, value_field, key);
        *end = append_value(buf, *end + at, v);
        return Ok(());
    }

    // A large record with a long key or no value.
    buf.truncate(*end);
    buf.reserve(total + 8);
    head.write(buf);
    head2.write(buf);
    if let Some(k) = key {
        buf.extend_from_slice(k);
    }
    value_field.write(buf);
    if let Some(v) = value {
        buf.extend_from_slice(v);
    }
    buf.push(0); // no headers
    *end = buf.len();
    Ok(())
}

/// Writes a record's fields up to its value into `out` (room for them plus 8 bytes): the
/// length, attributes and timestamp delta in `head`, the offset delta and key length in
/// `head2`, the key, then the value length. Returns where the value goes.
#[inline(always)]
fn store_prefix(
    out: &mut [u8],
    head: Word,
    head2: Word,
    value_field: Word,
    key: Option<&[u8]>,
) -> usize {
    let mut at = head.store(out, 0);
    at = head2.store(out, at);
    if let Some(k) = key {
        copy_short(&mut out[at..], k);
        at += k.len();
    }
    value_field.store(out, at)
}

/// Records of up to this many bytes are written into a [`BatchBuilder`]'s slack (see
/// [`put_plain_record`]).
const SMALL_RECORD: usize = 256;

/// [`put_record`] at `*end` in a [`BatchBuilder`]'s vector: for records with headers, and
/// those whose varints [`put_plain_record`] does not write. Out of line, like the other rare
/// paths, so that the common one needs fewer registers.
#[inline(never)]
fn put_record_at_end(
    buf: &mut Vec<u8>,
    end: &mut usize,
    timestamp_delta: i64,
    offset_delta: i32,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[RecordHeader],
) -> Result<(), EncodeError> {
    buf.truncate(*end);
    put_record(buf, 0, timestamp_delta, offset_delta, key, value, headers)?;
    *end = buf.len();
    Ok(())
}

/// Makes `buf` at least `len` long, adding at least [`SLACK_STEP`] bytes of zeros.
#[cold]
#[inline(never)]
fn grow_slack(buf: &mut Vec<u8>, len: usize) {
    buf.resize(len.max(buf.len() + SLACK_STEP), 0);
}

/// Cuts `buf` back to `at`, appends `value` and a header count of 0, and returns the new
/// end. Out of line: inlined into a caller's loop of appends, the copy ran slower (54 against
/// 48 µs per batch of 1000 records of 1 KiB).
#[inline(never)]
fn append_value(buf: &mut Vec<u8>, at: usize, value: &[u8]) -> usize {
    buf.truncate(at);
    buf.extend_from_slice(value);
    buf.push(0); // no headers
    buf.len()
}

/// Room for the fields before a large value (see [`put_plain_record`]): a key of up to 40
/// bytes and the varints around it.
const PREFIX_ROOM: usize = 64;

/// Bytes of zeros a [`BatchBuilder`] adds to its slack at a time.
const SLACK_STEP: usize = 4096;

/// Copies `src` to the start of `dst` (at least as long). Up to 128 bytes, as two
/// overlapping copies of a constant size, which the compiler writes as a few moves instead
/// of a call to `memcpy`.
#[inline(always)]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    let dst = &mut dst[..n];
    match n {
        0 => {}
        1..=3 => {
            dst[0] = src[0];
            dst[n / 2] = src[n / 2];
            dst[n - 1] = src[n - 1];
        }
        4..=7 => copy_ends::<4>(dst, src),
        8..=15 => copy_ends::<8>(dst, src),
        16..=31 => copy_ends::<16>(dst, src),
        32..=63 => copy_ends::<32>(dst, src),
        64..=128 => copy_ends::<64>(dst, src),
        _ => copy_long(dst, src),
    }
}

/// The first and the last `W` bytes of `src` (of the same length as `dst`, and at least `W`
/// long) copied to `dst`: all of it, when `src` is at most `2·W` long.
#[inline(always)]
fn copy_ends<const W: usize>(dst: &mut [u8], src: &[u8]) {
    if let (Some(d), Some(s)) = (dst.first_chunk_mut::<W>(), src.first_chunk::<W>()) {
        *d = *s;
    }
    if let (Some(d), Some(s)) = (dst.last_chunk_mut::<W>(), src.last_chunk::<W>()) {
        *d = *s;
    }
}

/// `dst.copy_from_slice(src)` out of line: inlined, the compiler merges it with the
/// constant-size copies of [`copy_short`] into one call to `memcpy` of a variable size.
#[inline(never)]
fn copy_long(dst: &mut [u8], src: &[u8]) {
    dst.copy_from_slice(src);
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

    /// The unsigned varint of `v`, below [`SHORT_VARINT_END`], without a loop.
    #[inline(always)]
    fn varint(v: u64) -> Word {
        if v < 0x80 {
            Word { bits: v, len: 1 }
        } else if v < 0x4000 {
            Word {
                bits: (v & 0x7F) | 0x80 | (v >> 7) << 8,
                len: 2,
            }
        } else {
            Word {
                bits: (v & 0x7F) | 0x80 | ((v >> 7) & 0x7F | 0x80) << 8 | (v >> 14) << 16,
                len: 3,
            }
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

    /// Stores all 8 bytes at `at` in `out`, returns where the real ones end.
    #[inline(always)]
    fn store(self, out: &mut [u8], at: usize) -> usize {
        out[at..at + 8].copy_from_slice(&self.bits.to_le_bytes());
        at + self.len as usize
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
    /// The batch in `buf[..end]`; past `end`, initialized room for small records.
    buf: Vec<u8>,
    end: usize,
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
            end: RECORD_BATCH_OVERHEAD,
            records_crc: 0,
            crc_end: RECORD_BATCH_OVERHEAD,
            base_timestamp,
            max_timestamp: base_timestamp,
            count: 0,
        }
    }

    /// Bytes the batch takes so far.
    pub fn size(&self) -> usize {
        self.end
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
    #[inline]
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
            put_plain_record(
                &mut self.buf,
                &mut self.end,
                timestamp_delta,
                offset_delta,
                key,
                value,
            )?;
        } else {
            put_record_at_end(
                &mut self.buf,
                &mut self.end,
                timestamp_delta,
                offset_delta,
                key,
                value,
                headers,
            )?;
        }
        self.count += 1;
        self.max_timestamp = self.max_timestamp.max(timestamp);
        if self.end - self.crc_end >= CRC_CHUNK {
            let records = &self.buf[self.crc_end..self.end];
            self.records_crc = kwire_crc32c::crc32c_append(self.records_crc, records);
            self.crc_end = self.end;
        }
        Ok(())
    }

    /// Patches the header and CRC and returns the finished batch.
    pub fn finish(mut self) -> Result<Bytes, EncodeError> {
        self.buf.truncate(self.end);
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
        let records = &self.buf[RECORD_BATCH_OVERHEAD..self.end];
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
    use crate::record::tests::{header, TS, VECTOR_A, VECTOR_B};
    use crate::record::{CrcCheck, RecordBatch};
    use crate::{hex, parse_hex};

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
    fn timestamp_deltas_beyond_two_to_the_31_ms_round_trip() {
        let later = TS + (1i64 << 33);
        let mut b = BatchBuilder::new(TS);
        b.append(later, None, Some(b"x"), &[]).unwrap();
        let batch = RecordBatch::decode_all(b.finish().unwrap(), CrcCheck::Verify).unwrap();
        assert_eq!(batch[0].records[0].timestamp_delta, 1i64 << 33);
        assert_eq!(batch[0].max_timestamp, later);
    }
}
