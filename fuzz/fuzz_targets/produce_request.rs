//! Decodes arbitrary bytes as a `ProduceRequest` body: first byte the version, the rest the body.
#![no_main]

use kwire_codec::produce::ProduceRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((version, body)) = kwire_fuzz::versioned::<ProduceRequest>(data) {
        kwire_fuzz::decode::<ProduceRequest>(body, version);
    }
});
