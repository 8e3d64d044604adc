//! What kwire's fuzz targets share: how a target turns its first input byte into a version,
//! and the properties every decoder must have.
//!
//! - Decoding arbitrary bytes never panics and never allocates by what a length merely
//!   claims (libFuzzer's `-rss_limit_mb` and `-malloc_limit_mb` catch the latter).
//! - A decode error points into the input: its offset is at most the input's length.
//! - What decodes re-encodes to exactly the same bytes, and those decode to an equal value
//!   (the codec rejects non-canonical encodings so that this holds).
#![forbid(unsafe_code)]

use std::fmt::Debug;

use bytes::{Bytes, BytesMut};
use kwire_codec::record::{CrcCheck, RecordBatch};
use kwire_codec::{ApiKey, DecodeError, Message, Reader, RequestHeader, ResponseHeader};

/// A version of `M` from one input byte: the byte modulo `MAX_VERSION + 1`, raised to
/// `MIN_VERSION`. A byte holding a supported version maps to that version, so a seed is
/// written as the version followed by the body.
pub fn version_of<M: Message>(byte: u8) -> i16 {
    (i16::from(byte) % (M::MAX_VERSION + 1)).max(M::MIN_VERSION)
}

/// Splits an input into a version for `M` (its first byte) and a body (the rest).
pub fn versioned<M: Message>(data: &[u8]) -> Option<(i16, Bytes)> {
    let (&first, rest) = data.split_first()?;
    Some((version_of::<M>(first), Bytes::copy_from_slice(rest)))
}

/// Checks that a decode error points into an input of `len` bytes.
pub fn check_error(e: &DecodeError, len: usize) {
    assert!(
        e.offset <= len,
        "error offset {} past the input ({len} bytes): {e}",
        e.offset
    );
}

/// Decodes a body of `M` at `version`: must not panic; an error must point into the input.
pub fn decode<M: Message>(body: Bytes, version: i16) -> Option<M> {
    let len = body.len();
    match M::decode(body, version) {
        Ok(value) => Some(value),
        Err(e) => {
            check_error(&e, len);
            None
        }
    }
}

/// Decodes a body; if it decodes, it must encode back to the same bytes, which must decode
/// to an equal value.
pub fn round_trip<M: Message + PartialEq + Debug>(body: Bytes, version: i16) {
    let Some(value) = decode::<M>(body.clone(), version) else {
        return;
    };
    let mut again = BytesMut::new();
    if let Err(e) = value.encode(version, &mut again) {
        panic!(
            "{} v{version} decodes but does not encode: {e}\n{value:#?}",
            M::NAME
        );
    }
    assert_eq!(
        kwire_codec::hex(&again),
        kwire_codec::hex(&body),
        "{} v{version} re-encodes to other bytes\n{value:#?}",
        M::NAME
    );
    let twice = M::decode(again.freeze(), version).expect("re-encoded bytes decode");
    assert_eq!(
        twice,
        value,
        "{} v{version} decodes to another value",
        M::NAME
    );
}

/// Decodes a request header and the body its API key and version name from a frame (no size
/// prefix); if both decode and nothing is left over, `encode_request_frame` must give the
/// same bytes back.
pub fn request_frame(frame: Bytes) {
    let len = frame.len();
    let mut r = Reader::new(frame.clone());
    let header = match RequestHeader::decode(&mut r) {
        Ok(h) => h,
        Err(e) => return check_error(&e, len),
    };
    let Some(api) = ApiKey::from_code(header.request_api_key) else {
        return;
    };
    let version = header.request_api_version;
    let mut again = BytesMut::new();
    let encoded = match api {
        ApiKey::ApiVersions => body_in_frame::<kwire_codec::api_versions::ApiVersionsRequest>(
            &header, &mut r, len, &mut again,
        ),
        ApiKey::Metadata => body_in_frame::<kwire_codec::metadata::MetadataRequest>(
            &header, &mut r, len, &mut again,
        ),
        ApiKey::Produce => {
            body_in_frame::<kwire_codec::produce::ProduceRequest>(&header, &mut r, len, &mut again)
        }
        _ => return,
    };
    if encoded {
        assert_eq!(
            kwire_codec::hex(&again[4..]),
            kwire_codec::hex(&frame),
            "{} v{version} request frame re-encodes to other bytes",
            api.name()
        );
        let size = i32::from_be_bytes([again[0], again[1], again[2], again[3]]);
        assert_eq!(usize::try_from(size).ok(), Some(len));
    }
}

/// Decodes the body of a request frame from `r`; on success writes the whole frame again
/// into `out` and returns true.
fn body_in_frame<M: Message>(
    header: &RequestHeader,
    r: &mut Reader,
    len: usize,
    out: &mut BytesMut,
) -> bool {
    let body = M::decode_from(r, header.request_api_version).and_then(|b| {
        r.finish("_end")?;
        Ok(b)
    });
    match body {
        Ok(body) => {
            if let Err(e) = kwire_codec::encode_request_frame(header, &body, out) {
                panic!("{} request decodes but does not encode: {e}", M::NAME);
            }
            true
        }
        Err(e) => {
            check_error(&e, len);
            false
        }
    }
}

/// Decodes a request header alone; what decodes must re-encode to the bytes it used.
pub fn request_header(data: Bytes) {
    let mut r = Reader::new(data.clone());
    let header = match RequestHeader::decode(&mut r) {
        Ok(h) => h,
        Err(e) => return check_error(&e, data.len()),
    };
    let used = r.position();
    let header_version = ApiKey::from_code(header.request_api_key)
        .map_or(1, |k| k.request_header_version(header.request_api_version));
    let mut again = BytesMut::new();
    header
        .encode(header_version, &mut again)
        .expect("a decoded header encodes");
    assert_eq!(
        &again[..],
        &data[..used],
        "request header re-encodes to other bytes"
    );
}

/// Decodes a response header of version `header_version` (0 or 1); what decodes must
/// re-encode to the bytes it used.
pub fn response_header(data: Bytes, header_version: i16) {
    let mut r = Reader::new(data.clone());
    let header = match ResponseHeader::decode(&mut r, header_version) {
        Ok(h) => h,
        Err(e) => return check_error(&e, data.len()),
    };
    let used = r.position();
    let mut again = BytesMut::new();
    header.encode(header_version, &mut again);
    assert_eq!(
        &again[..],
        &data[..used],
        "response header re-encodes to other bytes"
    );
}

/// Decodes the record batches of a records field, with or without the CRC check.
pub fn record_batches(bytes: Bytes, check: CrcCheck) -> Option<Vec<RecordBatch>> {
    let len = bytes.len();
    match RecordBatch::decode_all(bytes, check) {
        Ok(batches) => Some(batches),
        Err(e) => {
            check_error(&e, len);
            None
        }
    }
}

/// Offset of the CRC in a batch, and the bytes before its length field ends.
const CRC_OFFSET: usize = 17;
const LOG_OVERHEAD: usize = 12;

/// Decodes batches without checking CRCs; what decodes must re-encode to the same bytes apart
/// from the CRCs (which encoding computes), and those bytes must pass the CRC check and
/// decode to the same batches.
pub fn record_batches_round_trip(bytes: Bytes) {
    let Some(batches) = record_batches(bytes.clone(), CrcCheck::Skip) else {
        return;
    };
    let mut again = BytesMut::new();
    for b in &batches {
        if let Err(e) = b.encode(&mut again) {
            panic!("a decoded batch does not encode: {e}\n{b:#?}");
        }
    }
    assert_eq!(
        again.len(),
        bytes.len(),
        "re-encoded batches have another length"
    );

    let mut expected = bytes.to_vec();
    let mut at = 0;
    while at < expected.len() {
        let length = i32::from_be_bytes(expected[at + 8..at + 12].try_into().unwrap());
        let crc = at + CRC_OFFSET;
        expected[crc..crc + 4].copy_from_slice(&again[crc..crc + 4]);
        at += LOG_OVERHEAD + usize::try_from(length).unwrap();
    }
    assert_eq!(
        kwire_codec::hex(&again),
        kwire_codec::hex(&expected),
        "batches re-encode to other bytes (CRCs aside)"
    );

    let twice = RecordBatch::decode_all(again.freeze(), CrcCheck::Verify)
        .expect("re-encoded batches pass the CRC check");
    let without_crc = |v: &[RecordBatch]| -> Vec<RecordBatch> {
        v.iter()
            .cloned()
            .map(|mut b| {
                b.crc = 0;
                b
            })
            .collect()
    };
    assert_eq!(without_crc(&twice), without_crc(&batches));
}

/// Reads records from `data` and checks what `BatchBuilder` makes of them (see the
/// `batch_builder` target). Each record takes a flags byte (bit 0: a key, bit 1: a value,
/// bit 2: a header, bits 3-4: the width of the timestamp delta: 1, 2, 4 or 8 bytes), the
/// delta (little-endian, signed), then for the key and the value a length byte (times 8 when
/// bit 5 or 6 of the flags is set, so values cross the builder's small-record limit) and
/// that many bytes, taken from the input (cycled when it runs out).
pub fn batch_builder(data: &[u8]) {
    use kwire_codec::record::{BatchBuilder, RecordHeader};

    /// The input read from the start, cycled when it runs out.
    struct Cursor<'a> {
        data: &'a [u8],
        at: usize,
    }
    impl Cursor<'_> {
        fn take(&mut self, n: usize) -> Vec<u8> {
            let out = (0..n)
                .map(|i| self.data[(self.at + i) % self.data.len()])
                .collect();
            self.at += n;
            out
        }
        fn field(&mut self, present: bool, long: bool) -> Option<Vec<u8>> {
            present.then(|| {
                let len = usize::from(self.take(1)[0]) * if long { 8 } else { 1 };
                self.take(len)
            })
        }
    }

    const TS: i64 = 1_700_000_000_000;
    if data.is_empty() {
        return;
    }
    let mut input = Cursor { data, at: 0 };
    let mut builder = BatchBuilder::new(TS);
    let mut expected = Vec::new();
    while input.at < data.len() && expected.len() < 200 {
        let flags = input.take(1)[0];
        let width = 1usize << ((flags >> 3) & 3);
        let mut delta = [0u8; 8];
        delta[..width].copy_from_slice(&input.take(width));
        let shift = 64 - 8 * width as u32;
        let delta = (i64::from_le_bytes(delta) << shift) >> shift;
        let key = input.field(flags & 1 != 0, flags & 0x20 != 0);
        let value = input.field(flags & 2 != 0, flags & 0x40 != 0);
        let headers = if flags & 4 != 0 {
            vec![RecordHeader {
                key: "h".into(),
                value: None,
            }]
        } else {
            vec![]
        };
        builder
            .append(
                TS.wrapping_add(delta),
                key.as_deref(),
                value.as_deref(),
                &headers,
            )
            .expect("a record of a few KiB fits");
        expected.push((delta, key, value, headers.len()));
    }
    let built = builder.finish().expect("the batch fits");

    let decoded =
        RecordBatch::decode_all(built.clone(), CrcCheck::Verify).expect("the built batch decodes");
    assert_eq!(decoded.len(), 1);
    assert_eq!(decoded[0].records.len(), expected.len());
    for (i, (r, (delta, key, value, headers))) in
        decoded[0].records.iter().zip(&expected).enumerate()
    {
        assert_eq!(r.offset_delta, i as i32);
        assert_eq!(r.timestamp_delta, *delta);
        assert_eq!(r.key.as_deref(), key.as_deref());
        assert_eq!(r.value.as_deref(), value.as_deref());
        assert_eq!(r.headers.len(), *headers);
    }
    let mut again = BytesMut::new();
    decoded[0].encode(&mut again).expect("re-encodes");
    assert_eq!(&again[..], &built[..], "builder and general encoder differ");
}

#[cfg(test)]
mod tests {
    //! The checked-in seeds are worth starting from: each decodes in full (`cargo test
    //! --manifest-path fuzz/Cargo.toml`), so the fuzzer begins deep inside every decoder.

    use super::*;
    use kwire_codec::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
    use kwire_codec::metadata::{MetadataRequest, MetadataResponse};
    use kwire_codec::produce::{ProduceRequest, ProduceResponse};

    fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("seeds")
            .join(target);
        let mut out: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().into_string().unwrap(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        out.sort();
        assert!(!out.is_empty(), "no seeds for {target}");
        out
    }

    fn all_decode<M: Message + PartialEq + Debug>(target: &str) {
        for (name, data) in seeds(target) {
            let (version, body) = versioned::<M>(&data).unwrap();
            assert_eq!(i16::from(data[0]), version, "{name}: version byte");
            M::decode(body.clone(), version).unwrap_or_else(|e| panic!("{name}: {e}"));
            round_trip::<M>(body, version);
        }
    }

    #[test]
    fn every_message_seed_decodes_and_round_trips() {
        all_decode::<ApiVersionsRequest>("api_versions_request");
        all_decode::<ApiVersionsResponse>("api_versions_response");
        all_decode::<MetadataRequest>("metadata_request");
        all_decode::<MetadataResponse>("metadata_response");
        all_decode::<ProduceRequest>("produce_request");
        all_decode::<ProduceResponse>("produce_response");
    }

    #[test]
    fn every_batch_seed_decodes_with_its_crc_checked() {
        for (name, data) in seeds("record_batch") {
            let batches = record_batches(Bytes::copy_from_slice(&data[1..]), CrcCheck::Verify);
            assert!(batches.is_some_and(|b| !b.is_empty()), "{name}");
            record_batches_round_trip(Bytes::copy_from_slice(&data[1..]));
        }
    }

    #[test]
    fn every_crc32c_seed_gives_the_crc32c_crates_crc() {
        for (name, data) in seeds("crc32c") {
            let (start, data) = data.split_at(4);
            let start = u32::from_le_bytes(start.try_into().unwrap());
            assert_eq!(
                kwire_crc32c::crc32c_append(start, data),
                crc32c::crc32c_append(start, data),
                "{name}"
            );
        }
    }

    #[test]
    fn every_batch_builder_seed_builds_what_the_general_encoder_writes() {
        for (_, data) in seeds("batch_builder") {
            batch_builder(&data);
        }
    }

    #[test]
    fn every_request_frame_seed_decodes_in_full() {
        for (name, data) in seeds("request_frame") {
            let mut buf = BytesMut::from(&data[..]);
            let frame = kwire_codec::header::split_frame(&mut buf, 1 << 20)
                .unwrap()
                .unwrap();
            assert!(buf.is_empty(), "{name}");
            let mut r = Reader::new(frame.clone());
            let header = RequestHeader::decode(&mut r).unwrap();
            let version = header.request_api_version;
            let body = r.take_rest();
            let ok = match header.request_api_key {
                18 => ApiVersionsRequest::decode(body, version).is_ok(),
                3 => MetadataRequest::decode(body, version).is_ok(),
                0 => ProduceRequest::decode(body, version).is_ok(),
                other => panic!("{name}: API key {other}"),
            };
            assert!(ok, "{name}");
            request_frame(frame);
        }
    }
}
