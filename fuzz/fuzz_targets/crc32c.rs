//! kwire-crc32c against the crc32c crate: the first four bytes (little-endian) are the CRC
//! to append to, the rest the data. Inputs of 512 bytes and more take the folding path on
//! CPUs that have it; the seeds are long enough to start there.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (start, data) = match data.split_first_chunk::<4>() {
        Some((start, rest)) => (u32::from_le_bytes(*start), rest),
        None => (0, data),
    };
    assert_eq!(
        kwire_crc32c::crc32c_append(start, data),
        crc32c::crc32c_append(start, data),
        "CRC of {} bytes after {start:#010x}",
        data.len()
    );
});
