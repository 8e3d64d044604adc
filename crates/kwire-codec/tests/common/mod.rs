//! What the codec's integration tests share: strategies for arbitrary values of every
//! message at a given version (here, [`messages`] and [`records`]) and the reference vectors
//! of KAFKA-NOTES ([`vectors`]).
//!
//! Values are *version-normalised*: a field that the version does not carry stays at the
//! default that decoding gives it, so a generated value must come back from encode → decode
//! unchanged. Unknown tagged fields use only tags that the schema does not define at that
//! level and version, in ascending order without repeats, as a peer would send them.
//!
//! Each test binary uses a different subset of this module.
#![allow(dead_code)]

pub mod messages;
pub mod records;
pub mod vectors;

use bytes::Bytes;
use kwire_codec::{ErrorCode, RawTaggedField, RequestHeader, ResponseHeader, Uuid};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

/// Which implementation the generated values must also suit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Anything the Kafka schema allows.
    Schema,
    /// What kafka-protocol 0.18 can carry as well: tags below 2^31 (it stores them as `i32`),
    /// and no tag 0 in a ProduceResponse v9 partition or body (it rejects a tag that the
    /// schema defines only from v10, as Java does; kwire keeps it as an unknown field).
    Oracle,
}

/// The proptest configuration of every property: `cases` cases, failures saved next to the
/// test file (`tests/<name>.proptest-regressions`) so that they are replayed first.
pub fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}

/// Any UTF-8 text, including control characters and multi-byte characters.
pub fn text() -> BoxedStrategy<String> {
    "(?s).{0,10}".boxed()
}

/// Up to `max` arbitrary bytes.
pub fn bytes(max: usize) -> BoxedStrategy<Bytes> {
    vec(any::<u8>(), 0..=max).prop_map(Bytes::from).boxed()
}

/// A topic id: often all zeros ("no id"), otherwise arbitrary.
pub fn uuid() -> BoxedStrategy<Uuid> {
    prop_oneof![Just([0u8; 16]), any::<Uuid>()].boxed()
}

/// An error code, built the way a decoder builds it: from any `i16`, with the codes Kafka
/// defines drawn more often.
pub fn error_code() -> BoxedStrategy<ErrorCode> {
    prop_oneof![-1i16..=140, any::<i16>()]
        .prop_map(ErrorCode::from_code)
        .boxed()
}

fn tag(flavor: Flavor) -> BoxedStrategy<u32> {
    match flavor {
        Flavor::Schema => prop_oneof![0u32..12, 12u32..200, any::<u32>()].boxed(),
        Flavor::Oracle => prop_oneof![0u32..12, 12u32..200, 0u32..=i32::MAX as u32].boxed(),
    }
}

/// Unknown tagged fields of a struct whose schema defines the tags in `known`: none at all
/// before the first flexible version, otherwise up to three in ascending tag order.
pub fn unknown_tags(
    flexible: bool,
    known: &'static [u32],
    flavor: Flavor,
) -> BoxedStrategy<Vec<RawTaggedField>> {
    if !flexible {
        return Just(Vec::new()).boxed();
    }
    btree_map(tag(flavor), bytes(6), 0..=3)
        .prop_map(move |fields| {
            fields
                .into_iter()
                .filter(|(tag, _)| !known.contains(tag))
                .map(|(tag, data)| RawTaggedField { tag, data })
                .collect()
        })
        .boxed()
}

/// A version in `min..=max` and a value of that version from `value`.
pub fn versioned<T: std::fmt::Debug + 'static>(
    min: i16,
    max: i16,
    flavor: Flavor,
    value: fn(i16, Flavor) -> BoxedStrategy<T>,
) -> BoxedStrategy<(i16, T)> {
    (min..=max)
        .prop_flat_map(move |v| (Just(v), value(v, flavor)))
        .boxed()
}

// ---------------------------------------------------------------------------------------
// Headers

/// A request header of `header_version` (1 or 2) whose API key and version call for that
/// header version, since the decoder works the header version out from them.
pub fn request_header(header_version: i16, flavor: Flavor) -> BoxedStrategy<RequestHeader> {
    let key_and_version = if header_version >= 2 {
        // Flexible versions of the three APIs, including versions newer than this codec
        // knows (a broker reads those with header v2 too).
        prop_oneof![
            (Just(0i16), 9i16..=i16::MAX),
            (Just(3i16), 9i16..=i16::MAX),
            (Just(18i16), 3i16..=i16::MAX),
        ]
        .boxed()
    } else {
        prop_oneof![
            (Just(0i16), i16::MIN..9),
            (Just(3i16), i16::MIN..9),
            (Just(18i16), i16::MIN..3),
            // Keys this codec does not speak are always read as header v1.
            (
                any::<i16>()
                    .prop_filter("not a key this codec speaks", |k| ![0, 3, 18].contains(k)),
                any::<i16>()
            ),
        ]
        .boxed()
    };
    (
        key_and_version,
        any::<i32>(),
        option::of(text()),
        unknown_tags(header_version >= 2, &[], flavor),
    )
        .prop_map(
            |((key, version), correlation_id, client_id, tags)| RequestHeader {
                request_api_key: key,
                request_api_version: version,
                correlation_id,
                client_id,
                unknown_tagged_fields: tags,
            },
        )
        .boxed()
}

/// A response header of `header_version` (0 or 1).
pub fn response_header(header_version: i16, flavor: Flavor) -> BoxedStrategy<ResponseHeader> {
    (any::<i32>(), unknown_tags(header_version >= 1, &[], flavor))
        .prop_map(|(correlation_id, tags)| ResponseHeader {
            correlation_id,
            unknown_tagged_fields: tags,
        })
        .boxed()
}
