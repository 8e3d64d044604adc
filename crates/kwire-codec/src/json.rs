//! The JSON (serde) form of the codec's types: the helpers that the messages name in their
//! `#[serde(with = "…")]` attributes, and [`ErrorCode`]'s number form.
//!
//! Bytes are lower-case hex strings (`"6869"`), so that a key, a value or a raw tagged field
//! reads the same in JSON as in a hex dump, and a null byte field is JSON `null`, apart from
//! the empty string `""` of empty bytes. A UUID is its 32 hex digits. An error code is its
//! `i16` number, since a decoder must also show codes newer than this codec's table.
//!
//! Reading is a little looser than writing, for JSON written by hand: hex may be upper or
//! lower case and may contain white space or `:`, and a UUID may carry the usual `-`s.

use std::fmt;

use bytes::Bytes;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::error_code::ErrorCode;
use crate::primitives::Uuid;
use crate::{hex, parse_hex};

/// A byte string read from JSON hex.
struct HexString(Vec<u8>);

impl<'de> Deserialize<'de> for HexString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HexVisitor;

        impl Visitor<'_> for HexVisitor {
            type Value = HexString;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string of hex digits")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<HexString, E> {
                parse_hex(text)
                    .map(HexString)
                    .map_err(|e| E::custom(format!("invalid hex: {e}")))
            }
        }

        deserializer.deserialize_str(HexVisitor)
    }
}

/// Non-null bytes (`Bytes`) as a hex string.
pub mod hex_bytes {
    use super::*;

    /// Writes `bytes` as lower-case hex.
    pub fn serialize<S: Serializer>(bytes: &Bytes, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex(bytes))
    }

    /// Reads hex into bytes; `null` is an error.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Bytes, D::Error> {
        HexString::deserialize(deserializer).map(|h| Bytes::from(h.0))
    }
}

/// Nullable bytes (`Option<Bytes>`) as a hex string or `null`.
pub mod opt_hex_bytes {
    use super::*;

    /// Writes `bytes` as lower-case hex, or `null`.
    pub fn serialize<S: Serializer>(
        bytes: &Option<Bytes>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => serializer.serialize_str(&hex(b)),
            None => serializer.serialize_none(),
        }
    }

    /// Reads hex into bytes, or `null` into `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Bytes>, D::Error> {
        Ok(Option::<HexString>::deserialize(deserializer)?.map(|h| Bytes::from(h.0)))
    }
}

/// A [`Uuid`] as 32 hex digits.
pub mod uuid_hex {
    use super::*;

    /// Writes the 16 bytes as 32 lower-case hex digits.
    pub fn serialize<S: Serializer>(uuid: &Uuid, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex(uuid))
    }

    /// Reads 32 hex digits (`-` separators allowed) into a UUID.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Uuid, D::Error> {
        let text = String::deserialize(deserializer)?;
        let digits: String = text.chars().filter(|c| *c != '-').collect();
        let bytes =
            parse_hex(&digits).map_err(|e| de::Error::custom(format!("invalid UUID: {e}")))?;
        Uuid::try_from(bytes.as_slice()).map_err(|_| {
            de::Error::custom(format!(
                "invalid UUID: {} hex digits where 32 are needed",
                2 * bytes.len()
            ))
        })
    }
}

impl Serialize for ErrorCode {
    /// The wire code, as a JSON number.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i16(self.code())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    /// A wire code; codes this table does not know become [`ErrorCode::Unknown`].
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        i16::deserialize(deserializer).map(ErrorCode::from_code)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        #[serde(with = "hex_bytes")]
        data: Bytes,
        #[serde(with = "opt_hex_bytes")]
        key: Option<Bytes>,
        #[serde(with = "uuid_hex")]
        id: Uuid,
        error: ErrorCode,
    }

    fn sample(key: Option<&'static [u8]>) -> Sample {
        Sample {
            data: Bytes::from_static(b"hi"),
            key: key.map(Bytes::from_static),
            id: [0xab; 16],
            error: ErrorCode::NotLeaderOrFollower,
        }
    }

    #[test]
    fn bytes_are_lower_case_hex_and_null_stays_null() {
        let value = serde_json::to_value(sample(None)).unwrap();
        assert_eq!(
            value,
            json!({"data": "6869", "key": null, "id": "ab".repeat(16), "error": 6})
        );
    }

    #[test]
    fn empty_bytes_are_an_empty_string_not_null() {
        let value = serde_json::to_value(sample(Some(b""))).unwrap();
        assert_eq!(value["key"], json!(""));
        let back: Sample = serde_json::from_value(value).unwrap();
        assert_eq!(back.key, Some(Bytes::new()));
    }

    #[test]
    fn every_helper_reads_back_what_it_wrote() {
        for key in [None, Some(&b""[..]), Some(&b"\x00\xff k"[..])] {
            let text = serde_json::to_string(&sample(key)).unwrap();
            let back: Sample = serde_json::from_str(&text).unwrap();
            assert_eq!(back, sample(key));
        }
    }

    #[test]
    fn hand_written_hex_may_use_upper_case_spaces_and_uuid_dashes() {
        let back: Sample = serde_json::from_value(json!({
            "data": "68 69",
            "key": "6B31",
            "id": "abababab-abab-abab-abab-abababababab",
            "error": 6,
        }))
        .unwrap();
        assert_eq!(back, sample(Some(b"k1")));
    }

    #[test]
    fn bad_hex_names_the_offending_digit() {
        let err = serde_json::from_str::<Sample>(
            r#"{"data": "6g", "key": null, "id": "00000000000000000000000000000000", "error": 0}"#,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("invalid hex"), "{text}");
        assert!(text.contains("`g` at digit 1"), "{text}");
        assert_eq!(err.line(), 1);
    }

    #[test]
    fn a_uuid_of_the_wrong_length_is_rejected() {
        let err = serde_json::from_value::<Sample>(json!({
            "data": "", "key": null, "id": "abcd", "error": 0,
        }))
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("invalid UUID: 4 hex digits where 32 are needed"),
            "{err}"
        );
    }

    #[test]
    fn null_is_not_accepted_for_non_null_bytes() {
        let err = serde_json::from_value::<Sample>(json!({
            "data": null, "key": null, "id": "ab".repeat(16), "error": 0,
        }))
        .unwrap_err();
        assert!(err.to_string().contains("a string of hex digits"), "{err}");
    }

    #[test]
    fn unknown_error_codes_keep_their_number() {
        let code: ErrorCode = serde_json::from_str("999").unwrap();
        assert_eq!(code, ErrorCode::Unknown(999));
        assert_eq!(serde_json::to_string(&code).unwrap(), "999");
        assert_eq!(serde_json::to_string(&ErrorCode::None).unwrap(), "0");
    }
}
