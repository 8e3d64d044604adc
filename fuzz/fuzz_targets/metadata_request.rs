//! Decodes arbitrary bytes as a `MetadataRequest` body: first byte the version, the rest the body.
#![no_main]

use kwire_codec::metadata::MetadataRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((version, body)) = kwire_fuzz::versioned::<MetadataRequest>(data) {
        kwire_fuzz::decode::<MetadataRequest>(body, version);
    }
});
