//! Decodes arbitrary bytes as a `MetadataResponse` body: first byte the version, the rest the body.
#![no_main]

use kwire_codec::metadata::MetadataResponse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((version, body)) = kwire_fuzz::versioned::<MetadataResponse>(data) {
        kwire_fuzz::decode::<MetadataResponse>(body, version);
    }
});
