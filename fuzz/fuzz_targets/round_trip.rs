//! decode → encode → decode for every message type, header and record batches: whatever
//! decodes must encode again, to exactly the bytes it came from, and decode to an equal
//! value. First byte: what to decode (modulo 9); second byte: the version; rest: the bytes.
#![no_main]

use bytes::Bytes;
use kwire_codec::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use kwire_codec::metadata::{MetadataRequest, MetadataResponse};
use kwire_codec::produce::{ProduceRequest, ProduceResponse};
use kwire_fuzz::{round_trip, version_of};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [kind, version, rest @ ..] = data else {
        return;
    };
    let body = Bytes::copy_from_slice(rest);
    match kind % 9 {
        0 => round_trip::<ApiVersionsRequest>(body, version_of::<ApiVersionsRequest>(*version)),
        1 => round_trip::<ApiVersionsResponse>(body, version_of::<ApiVersionsResponse>(*version)),
        2 => round_trip::<MetadataRequest>(body, version_of::<MetadataRequest>(*version)),
        3 => round_trip::<MetadataResponse>(body, version_of::<MetadataResponse>(*version)),
        4 => round_trip::<ProduceRequest>(body, version_of::<ProduceRequest>(*version)),
        5 => round_trip::<ProduceResponse>(body, version_of::<ProduceResponse>(*version)),
        6 => kwire_fuzz::record_batches_round_trip(body),
        7 => kwire_fuzz::request_header(body),
        _ => kwire_fuzz::response_header(body, i16::from(*version & 1)),
    }
});
