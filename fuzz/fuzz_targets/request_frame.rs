//! Decodes arbitrary bytes as a size-prefixed request frame, the way a broker (or kwire's
//! `decode` command) reads one: size prefix, request header, then the body its API key and
//! version name. A frame that decodes must re-encode to the same bytes.
#![no_main]

use bytes::BytesMut;
use kwire_codec::header::split_frame;
use libfuzzer_sys::fuzz_target;

/// Larger than any input libFuzzer makes here, so the size limit is not what stops a frame.
const MAX_FRAME: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let mut buf = BytesMut::from(data);
    match split_frame(&mut buf, MAX_FRAME) {
        Ok(Some(frame)) => {
            assert_eq!(frame.len() + 4 + buf.len(), data.len());
            kwire_fuzz::request_frame(frame);
        }
        Ok(None) => assert!(data.len() < 4 || data.len() - 4 < claimed(data)),
        Err(e) => kwire_fuzz::check_error(&e, data.len()),
    }
    // The header alone, from the same bytes after the size prefix.
    if data.len() > 4 {
        kwire_fuzz::request_header(bytes::Bytes::copy_from_slice(&data[4..]));
    }
});

fn claimed(data: &[u8]) -> usize {
    i32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize
}
