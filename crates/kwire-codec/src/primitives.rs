//! Kafka's primitive types: fixed-width integers, varints, strings, bytes, arrays, UUIDs
//! and tagged fields, in their classic and "compact" (flexible-version) forms.
//!
//! Reading goes through [`Reader`], which checks every length and count against the bytes
//! that remain before it allocates. Writing goes straight into a caller's `BytesMut`.
//!
//! # References
//!
//! - `Type.java` and `ByteUtils.java` in apache/kafka (clients/src/main/java/org/apache/kafka/common/protocol/types)
//! - KIP-482 (tagged fields and compact encodings)

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};

/// A 16-byte Kafka UUID (topic ids). All zeros means "no id".
pub type Uuid = [u8; 16];

/// A tagged field this codec has no name for, kept so that re-encoding gives the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawTaggedField {
    /// The tag number.
    pub tag: u32,
    /// The field's bytes, without the tag and size prefix.
    #[serde(with = "crate::json::hex_bytes")]
    pub data: Bytes,
}

/// A cursor over received bytes that never reads past the end and never allocates more than
/// the remaining input could justify.
#[derive(Debug, Clone)]
pub struct Reader {
    buf: Bytes,
    pos: usize,
    /// Where reading stops: the end of `buf`, or of a length-prefixed structure inside it
    /// (see [`Reader::limit`]).
    end: usize,
}

/// Shorthand for decoding results.
pub type DecodeResult<T> = Result<T, DecodeError>;

impl Reader {
    /// A reader positioned at the start of `buf`.
    pub fn new(buf: Bytes) -> Self {
        let end = buf.len();
        Reader { buf, pos: 0, end }
    }

    /// The current offset from the start of the input.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.end - self.pos
    }

    /// An error of `kind` at the current position.
    pub fn error(&self, kind: DecodeErrorKind, field: &'static str) -> DecodeError {
        DecodeError::new(kind, self.pos, field)
    }

    /// Fails unless every byte was consumed.
    pub fn finish(&self, field: &'static str) -> DecodeResult<()> {
        match self.remaining() {
            0 => Ok(()),
            remaining => Err(self.error(DecodeErrorKind::TrailingBytes { remaining }, field)),
        }
    }

    /// Narrows reading to the next `n` bytes, which the caller has checked remain, so that a
    /// length-prefixed structure is read in place rather than through a sub-reader. Returns
    /// the previous end, to hand back to [`Reader::unlimit`] once the structure is read.
    pub(crate) fn limit(&mut self, n: usize) -> usize {
        debug_assert!(n <= self.remaining());
        std::mem::replace(&mut self.end, self.pos + n)
    }

    /// Restores the end that [`Reader::limit`] returned.
    pub(crate) fn unlimit(&mut self, end: usize) {
        self.end = end;
    }

    #[inline]
    fn need(&self, n: usize, field: &'static str) -> DecodeResult<()> {
        if self.remaining() < n {
            return Err(self.error(
                DecodeErrorKind::Truncated {
                    needed: n,
                    remaining: self.remaining(),
                },
                field,
            ));
        }
        Ok(())
    }

    #[inline]
    fn fixed<const N: usize>(&mut self, field: &'static str) -> DecodeResult<[u8; N]> {
        self.need(N, field)?;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.buf[self.pos..self.pos + N]);
        self.pos += N;
        Ok(out)
    }

    /// Takes the next `n` bytes without copying them.
    #[inline]
    pub fn take(&mut self, n: usize, field: &'static str) -> DecodeResult<Bytes> {
        self.need(n, field)?;
        let out = self.buf.slice(self.pos..self.pos + n);
        self.pos += n;
        Ok(out)
    }

    /// Takes everything that remains.
    pub fn take_rest(&mut self) -> Bytes {
        let out = self.buf.slice(self.pos..self.end);
        self.pos = self.end;
        out
    }

    /// Reads an INT8.
    #[inline]
    pub fn i8(&mut self, field: &'static str) -> DecodeResult<i8> {
        Ok(i8::from_be_bytes(self.fixed(field)?))
    }

    /// Reads an INT16.
    #[inline]
    pub fn i16(&mut self, field: &'static str) -> DecodeResult<i16> {
        Ok(i16::from_be_bytes(self.fixed(field)?))
    }

    /// Reads an INT32.
    #[inline]
    pub fn i32(&mut self, field: &'static str) -> DecodeResult<i32> {
        Ok(i32::from_be_bytes(self.fixed(field)?))
    }

    /// Reads an INT64.
    #[inline]
    pub fn i64(&mut self, field: &'static str) -> DecodeResult<i64> {
        Ok(i64::from_be_bytes(self.fixed(field)?))
    }

    /// Reads a UINT32.
    #[inline]
    pub fn u32(&mut self, field: &'static str) -> DecodeResult<u32> {
        Ok(u32::from_be_bytes(self.fixed(field)?))
    }

    /// Reads a BOOLEAN. Kafka reads any non-zero byte as true but only writes 0 and 1;
    /// other values are rejected as non-canonical.
    pub fn bool(&mut self, field: &'static str) -> DecodeResult<bool> {
        match self.fixed::<1>(field)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::new(
                DecodeErrorKind::NonCanonical("boolean is neither 0 nor 1"),
                self.pos - 1,
                field,
            )),
        }
    }

    /// Reads a UUID.
    pub fn uuid(&mut self, field: &'static str) -> DecodeResult<Uuid> {
        self.fixed(field)
    }

    /// Reads an UNSIGNED_VARINT (at most 5 bytes).
    pub fn uvarint(&mut self, field: &'static str) -> DecodeResult<u32> {
        let start = self.pos;
        let v = self.uvarlong_max(5, field)?;
        u32::try_from(v).map_err(|_| {
            DecodeError::new(
                DecodeErrorKind::VarintTooLong { max_bytes: 5 },
                start,
                field,
            )
        })
    }

    fn uvarlong_max(&mut self, max_bytes: usize, field: &'static str) -> DecodeResult<u64> {
        let start = self.pos;
        let mut value: u64 = 0;
        for i in 0..max_bytes {
            let Some(&b) = self.buf[..self.end].get(self.pos) else {
                self.pos = start;
                return Err(self.error(
                    DecodeErrorKind::Truncated {
                        needed: i + 1,
                        remaining: i,
                    },
                    field,
                ));
            };
            self.pos += 1;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                if b == 0 && i > 0 {
                    return Err(DecodeError::new(
                        DecodeErrorKind::NonCanonical("varint has a redundant trailing zero byte"),
                        start,
                        field,
                    ));
                }
                return Ok(value);
            }
        }
        Err(DecodeError::new(
            DecodeErrorKind::VarintTooLong { max_bytes },
            start,
            field,
        ))
    }

    /// The next varint, consumed, if it takes at most three bytes and is canonical: the
    /// common case of small values, read without the general loop. `None` leaves the
    /// reader where it was, for the general loop to read (or reject) the varint.
    #[inline]
    fn short_uvarint(&mut self) -> Option<u32> {
        let rest = &self.buf[self.pos..self.end];
        let (value, len) = match *rest {
            [b0, ..] if b0 < 0x80 => (u32::from(b0), 1),
            // A last byte of zero would make the varint non-canonical.
            [b0, b1, ..] if b1 < 0x80 && b1 != 0 => (u32::from(b0 & 0x7f) | u32::from(b1) << 7, 2),
            [b0, b1, b2, ..] if b1 >= 0x80 && b2 < 0x80 && b2 != 0 => (
                u32::from(b0 & 0x7f) | u32::from(b1 & 0x7f) << 7 | u32::from(b2) << 14,
                3,
            ),
            _ => return None,
        };
        self.pos += len;
        Some(value)
    }

    /// Reads a zigzag VARINT (at most 5 bytes).
    #[inline]
    pub fn varint(&mut self, field: &'static str) -> DecodeResult<i32> {
        match self.short_uvarint() {
            Some(z) => Ok((z >> 1) as i32 ^ -((z & 1) as i32)),
            None => self.varint_long(field),
        }
    }

    fn varint_long(&mut self, field: &'static str) -> DecodeResult<i32> {
        let start = self.pos;
        let raw = self.uvarlong_max(5, field)?;
        let raw = u32::try_from(raw).map_err(|_| {
            DecodeError::new(
                DecodeErrorKind::VarintTooLong { max_bytes: 5 },
                start,
                field,
            )
        })?;
        Ok(((raw >> 1) as i32) ^ -((raw & 1) as i32))
    }

    /// Reads a zigzag VARLONG (at most 10 bytes).
    #[inline]
    pub fn varlong(&mut self, field: &'static str) -> DecodeResult<i64> {
        match self.short_uvarint() {
            Some(z) => Ok(i64::from(z >> 1) ^ -i64::from(z & 1)),
            None => self.varlong_long(field),
        }
    }

    fn varlong_long(&mut self, field: &'static str) -> DecodeResult<i64> {
        let start = self.pos;
        let raw = self.uvarlong_max(10, field)?;
        // A tenth byte may only carry the single top bit.
        if self.pos - start == 10 && self.buf[self.pos - 1] > 1 {
            return Err(DecodeError::new(
                DecodeErrorKind::VarintTooLong { max_bytes: 10 },
                start,
                field,
            ));
        }
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }

    /// Reads a length: INT16 for classic strings, INT32 for classic bytes and arrays, or
    /// UNSIGNED_VARINT N+1 for compact forms. `None` is the null marker.
    fn length(
        &mut self,
        flexible: bool,
        wide: bool,
        field: &'static str,
    ) -> DecodeResult<Option<usize>> {
        let start = self.pos;
        let len: i64 = if flexible {
            i64::from(self.uvarint(field)?) - 1
        } else if wide {
            i64::from(self.i32(field)?)
        } else {
            i64::from(self.i16(field)?)
        };
        if len == -1 {
            return Ok(None);
        }
        if len < 0 {
            return Err(DecodeError::new(
                DecodeErrorKind::InvalidLength {
                    length: len,
                    remaining: self.remaining(),
                },
                start,
                field,
            ));
        }
        Ok(Some(len as usize))
    }

    fn checked_bytes(
        &mut self,
        len: Option<usize>,
        start: usize,
        field: &'static str,
    ) -> DecodeResult<Option<Bytes>> {
        match len {
            None => Ok(None),
            Some(n) if n > self.remaining() => Err(DecodeError::new(
                DecodeErrorKind::InvalidLength {
                    length: n as i64,
                    remaining: self.remaining(),
                },
                start,
                field,
            )),
            Some(n) => self.take(n, field).map(Some),
        }
    }

    /// Reads a STRING, or a COMPACT_STRING when `flexible`.
    pub fn string(&mut self, flexible: bool, field: &'static str) -> DecodeResult<String> {
        let start = self.pos;
        self.nullable_string(flexible, field)?
            .ok_or_else(|| DecodeError::new(DecodeErrorKind::UnexpectedNull, start, field))
    }

    /// Reads a NULLABLE_STRING, or a COMPACT_NULLABLE_STRING when `flexible`.
    pub fn nullable_string(
        &mut self,
        flexible: bool,
        field: &'static str,
    ) -> DecodeResult<Option<String>> {
        let start = self.pos;
        let len = self.length(flexible, false, field)?;
        let Some(bytes) = self.checked_bytes(len, start, field)? else {
            return Ok(None);
        };
        String::from_utf8(bytes.to_vec())
            .map(Some)
            .map_err(|_| DecodeError::new(DecodeErrorKind::InvalidUtf8, start, field))
    }

    /// Reads a NULLABLE_BYTES, or a COMPACT_NULLABLE_BYTES when `flexible`, without copying.
    pub fn nullable_bytes(
        &mut self,
        flexible: bool,
        field: &'static str,
    ) -> DecodeResult<Option<Bytes>> {
        let start = self.pos;
        let len = self.length(flexible, true, field)?;
        self.checked_bytes(len, start, field)
    }

    /// Reads an ARRAY or COMPACT_ARRAY count; `None` is a null array. The count is checked
    /// against the remaining bytes, given that each element takes at least `min_element_size`.
    pub fn array_len(
        &mut self,
        flexible: bool,
        min_element_size: usize,
        field: &'static str,
    ) -> DecodeResult<Option<usize>> {
        let start = self.pos;
        let len = self.length(flexible, true, field)?;
        if let Some(n) = len {
            if n.saturating_mul(min_element_size.max(1)) > self.remaining() {
                return Err(DecodeError::new(
                    DecodeErrorKind::InvalidLength {
                        length: n as i64,
                        remaining: self.remaining(),
                    },
                    start,
                    field,
                ));
            }
        }
        Ok(len)
    }

    /// Reads a non-null array, each element with `element`.
    pub fn array<T>(
        &mut self,
        flexible: bool,
        min_element_size: usize,
        field: &'static str,
        mut element: impl FnMut(&mut Reader) -> DecodeResult<T>,
    ) -> DecodeResult<Vec<T>> {
        let start = self.pos;
        let n = self
            .array_len(flexible, min_element_size, field)?
            .ok_or_else(|| DecodeError::new(DecodeErrorKind::UnexpectedNull, start, field))?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(element(self)?);
        }
        Ok(out)
    }

    /// Reads a nullable array, each element with `element`.
    pub fn nullable_array<T>(
        &mut self,
        flexible: bool,
        min_element_size: usize,
        field: &'static str,
        mut element: impl FnMut(&mut Reader) -> DecodeResult<T>,
    ) -> DecodeResult<Option<Vec<T>>> {
        let Some(n) = self.array_len(flexible, min_element_size, field)? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(element(self)?);
        }
        Ok(Some(out))
    }

    /// Reads a TAG_BUFFER. `known` is offered each field's tag and a reader over exactly its
    /// bytes; it returns `false` for tags it does not know, which are then kept as raw fields.
    /// A known field must consume all of its bytes. A known field whose value equals its
    /// default (which Kafka would not write) should also return `false`, so that it is kept
    /// raw and re-encodes to the same bytes.
    pub fn tagged_fields(
        &mut self,
        field: &'static str,
        mut known: impl FnMut(u32, &mut Reader) -> DecodeResult<bool>,
    ) -> DecodeResult<Vec<RawTaggedField>> {
        let count = self.uvarint(field)? as usize;
        // Each tagged field takes at least two bytes (tag and size).
        if count.saturating_mul(2) > self.remaining() {
            return Err(self.error(
                DecodeErrorKind::InvalidLength {
                    length: count as i64,
                    remaining: self.remaining(),
                },
                field,
            ));
        }
        let mut unknown = Vec::new();
        let mut last_tag: Option<u32> = None;
        for _ in 0..count {
            let tag = self.uvarint(field)?;
            if last_tag.is_some_and(|t| tag <= t) {
                return Err(self.error(
                    DecodeErrorKind::Invalid(
                        "tagged fields are not in strictly ascending tag order",
                    ),
                    field,
                ));
            }
            last_tag = Some(tag);
            let size_at = self.pos;
            let size = self.uvarint(field)? as usize;
            if size > self.remaining() {
                return Err(DecodeError::new(
                    DecodeErrorKind::InvalidLength {
                        length: size as i64,
                        remaining: self.remaining(),
                    },
                    size_at,
                    field,
                ));
            }
            let base = self.pos;
            let data = self.take(size, field)?;
            let mut sub = Reader::new(data.clone());
            let handled = known(tag, &mut sub).map_err(|e| e.shifted(base))?;
            if handled {
                sub.finish(field).map_err(|e| e.shifted(base))?;
            } else {
                unknown.push(RawTaggedField { tag, data });
            }
        }
        Ok(unknown)
    }

    /// Reads a TAG_BUFFER of a struct that has no known tagged fields.
    pub fn unknown_tagged_fields(
        &mut self,
        field: &'static str,
    ) -> DecodeResult<Vec<RawTaggedField>> {
        self.tagged_fields(field, |_, _| Ok(false))
    }
}

/// Writes an UNSIGNED_VARINT.
pub fn put_uvarint(buf: &mut BytesMut, mut v: u32) {
    while v >= 0x80 {
        buf.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    buf.put_u8(v as u8);
}

fn put_uvarlong(buf: &mut BytesMut, mut v: u64) {
    while v >= 0x80 {
        buf.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    buf.put_u8(v as u8);
}

/// Writes a zigzag VARINT.
pub fn put_varint(buf: &mut BytesMut, v: i32) {
    put_uvarint(buf, ((v << 1) ^ (v >> 31)) as u32);
}

/// Writes a zigzag VARLONG.
pub fn put_varlong(buf: &mut BytesMut, v: i64) {
    put_uvarlong(buf, ((v << 1) ^ (v >> 63)) as u64);
}

/// Bytes a zigzag VARINT of `v` takes.
#[inline]
pub fn varint_len(v: i32) -> usize {
    uvarlong_len(((v << 1) ^ (v >> 31)) as u32 as u64)
}

/// Bytes a zigzag VARLONG of `v` takes.
#[inline]
pub fn varlong_len(v: i64) -> usize {
    uvarlong_len(((v << 1) ^ (v >> 63)) as u64)
}

#[inline]
fn uvarlong_len(v: u64) -> usize {
    // ceil(significant bits / 7) without a division: protobuf's formula.
    let log2 = 63 - (v | 1).leading_zeros() as usize;
    (log2 * 9 + 73) / 64
}

fn put_len(
    buf: &mut BytesMut,
    flexible: bool,
    wide: bool,
    len: Option<usize>,
    field: &'static str,
) -> Result<(), EncodeError> {
    let too_long = || EncodeError::TooLong {
        field,
        len: len.unwrap_or(0),
    };
    match (flexible, len) {
        (true, None) => put_uvarint(buf, 0),
        (true, Some(n)) => put_uvarint(buf, u32::try_from(n + 1).map_err(|_| too_long())?),
        (false, None) if wide => buf.put_i32(-1),
        (false, None) => buf.put_i16(-1),
        (false, Some(n)) if wide => buf.put_i32(i32::try_from(n).map_err(|_| too_long())?),
        (false, Some(n)) => buf.put_i16(i16::try_from(n).map_err(|_| too_long())?),
    }
    Ok(())
}

/// Writes a STRING or COMPACT_STRING.
pub fn put_string(
    buf: &mut BytesMut,
    flexible: bool,
    s: &str,
    field: &'static str,
) -> Result<(), EncodeError> {
    put_len(buf, flexible, false, Some(s.len()), field)?;
    buf.put_slice(s.as_bytes());
    Ok(())
}

/// Writes a NULLABLE_STRING or COMPACT_NULLABLE_STRING.
pub fn put_nullable_string(
    buf: &mut BytesMut,
    flexible: bool,
    s: Option<&str>,
    field: &'static str,
) -> Result<(), EncodeError> {
    put_len(buf, flexible, false, s.map(str::len), field)?;
    if let Some(s) = s {
        buf.put_slice(s.as_bytes());
    }
    Ok(())
}

/// Writes a NULLABLE_BYTES or COMPACT_NULLABLE_BYTES.
pub fn put_nullable_bytes(
    buf: &mut BytesMut,
    flexible: bool,
    b: Option<&[u8]>,
    field: &'static str,
) -> Result<(), EncodeError> {
    put_len(buf, flexible, true, b.map(<[u8]>::len), field)?;
    if let Some(b) = b {
        buf.put_slice(b);
    }
    Ok(())
}

/// Writes an ARRAY or COMPACT_ARRAY count (`None` for a null array).
pub fn put_array_len(
    buf: &mut BytesMut,
    flexible: bool,
    len: Option<usize>,
    field: &'static str,
) -> Result<(), EncodeError> {
    put_len(buf, flexible, true, len, field)
}

/// Writes an array, each element with `element`.
pub fn put_array<T>(
    buf: &mut BytesMut,
    flexible: bool,
    items: &[T],
    field: &'static str,
    mut element: impl FnMut(&mut BytesMut, &T) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    put_array_len(buf, flexible, Some(items.len()), field)?;
    for item in items {
        element(buf, item)?;
    }
    Ok(())
}

/// Writes a TAG_BUFFER from known fields (each already encoded) and kept unknown ones,
/// in ascending tag order as the format requires.
pub fn put_tagged_fields(buf: &mut BytesMut, known: &[(u32, Bytes)], unknown: &[RawTaggedField]) {
    let mut all: Vec<(u32, &[u8])> = known
        .iter()
        .map(|(t, d)| (*t, d.as_ref()))
        .chain(unknown.iter().map(|f| (f.tag, f.data.as_ref())))
        .collect();
    all.sort_by_key(|(t, _)| *t);
    put_uvarint(buf, all.len() as u32);
    for (tag, data) in all {
        put_uvarint(buf, tag);
        put_uvarint(buf, data.len() as u32);
        buf.put_slice(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc_varint(v: i32) -> Vec<u8> {
        let mut b = BytesMut::new();
        put_varint(&mut b, v);
        b.to_vec()
    }

    #[test]
    fn varints_match_the_kafka_encoding_at_the_edges() {
        assert_eq!(enc_varint(0), [0x00]);
        assert_eq!(enc_varint(-1), [0x01]);
        assert_eq!(enc_varint(1), [0x02]);
        assert_eq!(enc_varint(i32::MAX), [0xfe, 0xff, 0xff, 0xff, 0x0f]);
        assert_eq!(enc_varint(i32::MIN), [0xff, 0xff, 0xff, 0xff, 0x0f]);
        for v in [0, 1, -1, 63, -64, 64, i32::MAX, i32::MIN] {
            let bytes = enc_varint(v);
            assert_eq!(bytes.len(), varint_len(v));
            let mut r = Reader::new(Bytes::from(bytes));
            assert_eq!(r.varint("v").unwrap(), v);
            r.finish("v").unwrap();
        }
    }

    #[test]
    fn varlongs_round_trip_at_the_extremes() {
        for v in [0i64, 1, -1, i64::from(i32::MAX) + 1, i64::MAX, i64::MIN] {
            let mut b = BytesMut::new();
            put_varlong(&mut b, v);
            assert_eq!(b.len(), varlong_len(v));
            let mut r = Reader::new(b.freeze());
            assert_eq!(r.varlong("v").unwrap(), v);
        }
    }

    #[test]
    fn over_long_varints_are_rejected() {
        let mut r = Reader::new(Bytes::from_static(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00]));
        let e = r.varint("x").unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::VarintTooLong { max_bytes: 5 });
        let mut r = Reader::new(Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 0x7f]));
        assert!(matches!(
            r.varint("x").unwrap_err().kind,
            DecodeErrorKind::VarintTooLong { .. }
        ));
        let eleven = [0xffu8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        let mut r = Reader::new(Bytes::copy_from_slice(&eleven));
        assert!(matches!(
            r.varlong("x").unwrap_err().kind,
            DecodeErrorKind::VarintTooLong { max_bytes: 10 }
        ));
    }

    #[test]
    fn a_redundant_trailing_zero_byte_is_non_canonical() {
        let mut r = Reader::new(Bytes::from_static(&[0x81, 0x00]));
        let e = r.uvarint("x").unwrap_err();
        assert!(matches!(e.kind, DecodeErrorKind::NonCanonical(_)));
        let mut r = Reader::new(Bytes::from_static(&[0x80, 0x80, 0x00]));
        assert!(matches!(
            r.varlong("x").unwrap_err().kind,
            DecodeErrorKind::NonCanonical(_)
        ));
        let mut r = Reader::new(Bytes::from_static(&[0x00]));
        assert_eq!(r.uvarint("x").unwrap(), 0);
    }

    #[test]
    fn every_varint_length_round_trips_across_the_short_and_long_paths() {
        // Both sides of each length boundary, with 1- to 3-byte varints taking the short path
        // and longer ones the general loop.
        for shift in 0..31 {
            for v in [
                (1i32 << shift) - 1,
                1 << shift,
                -(1 << shift),
                -(1 << shift) - 1,
            ] {
                let bytes = enc_varint(v);
                assert_eq!(bytes.len(), varint_len(v), "{v}");
                let mut r = Reader::new(Bytes::from(bytes.clone()));
                assert_eq!(r.varint("v").unwrap(), v);
                r.finish("v").unwrap();
                let mut r = Reader::new(Bytes::from(bytes));
                assert_eq!(r.varlong("v").unwrap(), i64::from(v));
            }
        }
    }

    #[test]
    fn short_varints_with_a_trailing_zero_byte_are_non_canonical_on_both_paths() {
        for bytes in [&[0x80, 0x00][..], &[0x80, 0x80, 0x00], &[0xff, 0xff, 0x00]] {
            let mut r = Reader::new(Bytes::copy_from_slice(bytes));
            let e = r.varint("x").unwrap_err();
            assert!(
                matches!(e.kind, DecodeErrorKind::NonCanonical(_)),
                "{bytes:?}"
            );
            assert_eq!(e.offset, 0);
        }
    }

    #[test]
    fn a_varint_cut_off_by_a_limit_is_truncated_there() {
        // 0x80 0x01 is the varint 64, but the limit ends the input after the first byte.
        let mut r = Reader::new(Bytes::from_static(&[0x80, 0x01, 0x00]));
        let end = r.limit(1);
        let e = r.varint("x").unwrap_err();
        assert!(matches!(e.kind, DecodeErrorKind::Truncated { .. }), "{e}");
        assert_eq!(r.remaining(), 1);
        r.unlimit(end);
        assert_eq!(r.varint("x").unwrap(), 64);
        assert_eq!(r.take_rest(), Bytes::from_static(&[0x00]));
    }

    #[test]
    fn booleans_other_than_zero_and_one_are_rejected() {
        let mut r = Reader::new(Bytes::from_static(&[1, 0, 2]));
        assert!(r.bool("b").unwrap());
        assert!(!r.bool("b").unwrap());
        let e = r.bool("b").unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(matches!(e.kind, DecodeErrorKind::NonCanonical(_)));
    }

    #[test]
    fn a_hostile_array_count_is_rejected_before_allocating() {
        let mut r = Reader::new(Bytes::from_static(&[0x7f, 0xff, 0xff, 0xff, 0, 0]));
        let e = r.array(false, 4, "topics", |r| r.i32("x")).unwrap_err();
        assert!(matches!(
            e.kind,
            DecodeErrorKind::InvalidLength {
                length: 2147483647,
                ..
            }
        ));
        assert_eq!(e.offset, 0);
    }

    #[test]
    fn negative_lengths_other_than_minus_one_are_rejected() {
        let mut r = Reader::new(Bytes::from_static(&[0xff, 0xfe, b'a']));
        let e = r.nullable_string(false, "name").unwrap_err();
        assert_eq!(
            e.kind,
            DecodeErrorKind::InvalidLength {
                length: -2,
                remaining: 1
            }
        );
        let mut r = Reader::new(Bytes::from_static(&[0xff, 0xff]));
        assert_eq!(r.nullable_string(false, "name").unwrap(), None);
    }

    #[test]
    fn a_string_longer_than_the_input_is_rejected() {
        let mut r = Reader::new(Bytes::from_static(&[0x00, 0x05, b'a', b'b']));
        let e = r.string(false, "name").unwrap_err();
        assert!(matches!(
            e.kind,
            DecodeErrorKind::InvalidLength {
                length: 5,
                remaining: 2
            }
        ));
    }

    #[test]
    fn unknown_tagged_fields_are_kept_and_re_encoded_identically() {
        let wire = [0x02, 0x01, 0x02, 0xaa, 0xbb, 0x05, 0x00];
        let mut r = Reader::new(Bytes::copy_from_slice(&wire));
        let fields = r.unknown_tagged_fields("tags").unwrap();
        r.finish("tags").unwrap();
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[0].tag, 1);
        assert_eq!(&fields[0].data[..], &[0xaa, 0xbb]);
        let mut out = BytesMut::new();
        put_tagged_fields(&mut out, &[], &fields);
        assert_eq!(&out[..], &wire);
    }
}
