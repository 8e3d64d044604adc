//! Decodes arbitrary bytes as an `ApiVersionsResponse` body: first byte the version, the
//! rest the body; both plainly and with the UNSUPPORTED_VERSION fallback to v0 that version
//! negotiation uses.
#![no_main]

use kwire_codec::api_versions::ApiVersionsResponse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((version, body)) = kwire_fuzz::versioned::<ApiVersionsResponse>(data) {
        kwire_fuzz::decode::<ApiVersionsResponse>(body.clone(), version);
        let len = body.len();
        match ApiVersionsResponse::decode_with_fallback(body, version) {
            Ok((_, read_at)) => assert!(read_at == version || read_at == 0),
            Err(e) => kwire_fuzz::check_error(&e, len),
        }
    }
});
