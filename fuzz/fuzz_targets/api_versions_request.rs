//! Decodes arbitrary bytes as a `ApiVersionsRequest` body: first byte the version, the rest the body.
#![no_main]

use kwire_codec::api_versions::ApiVersionsRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((version, body)) = kwire_fuzz::versioned::<ApiVersionsRequest>(data) {
        kwire_fuzz::decode::<ApiVersionsRequest>(body, version);
    }
});
