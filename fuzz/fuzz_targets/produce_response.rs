//! Decodes arbitrary bytes as a `ProduceResponse` body: first byte the version, the rest the body.
#![no_main]

use kwire_codec::produce::ProduceResponse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((version, body)) = kwire_fuzz::versioned::<ProduceResponse>(data) {
        kwire_fuzz::decode::<ProduceResponse>(body, version);
    }
});
