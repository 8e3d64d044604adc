//! Request and response headers, API keys, and whole size-prefixed frames.
//!
//! Which header version a message uses follows from its API and version: flexible request
//! versions use request header v2 (else v1), flexible response versions use response header
//! v1 (else v0), except that an ApiVersions response always carries header v0 (KIP-511), so
//! that a client can read it whatever version it asked for.
//!
//! # References
//!
//! - `RequestHeader.json`, `ResponseHeader.json` in apache/kafka
//! - KIP-482 (header v2 and v1), KIP-511 (ApiVersions response header)

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use crate::error::{DecodeErrorKind, EncodeError};
use crate::primitives::{
    put_nullable_string, put_tagged_fields, DecodeResult, RawTaggedField, Reader,
};
use crate::{api_versions, metadata, produce};

/// The APIs this codec speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiKey {
    /// Produce (key 0).
    Produce,
    /// Metadata (key 3).
    Metadata,
    /// ApiVersions (key 18).
    ApiVersions,
}

impl ApiKey {
    /// Every API this codec speaks.
    pub const ALL: [ApiKey; 3] = [ApiKey::Produce, ApiKey::Metadata, ApiKey::ApiVersions];

    /// The key on the wire.
    pub fn code(self) -> i16 {
        match self {
            ApiKey::Produce => 0,
            ApiKey::Metadata => 3,
            ApiKey::ApiVersions => 18,
        }
    }

    /// The API for a wire key, if this codec speaks it.
    pub fn from_code(code: i16) -> Option<ApiKey> {
        ApiKey::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Kafka's name for the API (`Produce`).
    pub fn name(self) -> &'static str {
        match self {
            ApiKey::Produce => "Produce",
            ApiKey::Metadata => "Metadata",
            ApiKey::ApiVersions => "ApiVersions",
        }
    }

    /// The API for a name, ignoring case and `-`/`_` (`api-versions`, `ApiVersions`).
    pub fn from_name(name: &str) -> Option<ApiKey> {
        let norm: String = name
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .flat_map(char::to_lowercase)
            .collect();
        ApiKey::ALL
            .into_iter()
            .find(|k| k.name().to_lowercase() == norm)
    }

    /// Lowest and highest version this codec encodes and decodes.
    pub fn versions(self) -> (i16, i16) {
        match self {
            ApiKey::Produce => (produce::MIN_VERSION, produce::MAX_VERSION),
            ApiKey::Metadata => (metadata::MIN_VERSION, metadata::MAX_VERSION),
            ApiKey::ApiVersions => (api_versions::MIN_VERSION, api_versions::MAX_VERSION),
        }
    }

    /// Whether `version` of this API uses the flexible (compact, tagged) encoding.
    pub fn is_flexible(self, version: i16) -> bool {
        match self {
            ApiKey::Produce => version >= produce::FIRST_FLEXIBLE_VERSION,
            ApiKey::Metadata => version >= metadata::FIRST_FLEXIBLE_VERSION,
            ApiKey::ApiVersions => version >= api_versions::FIRST_FLEXIBLE_VERSION,
        }
    }

    /// The request header version for `version` of this API (1 or 2).
    pub fn request_header_version(self, version: i16) -> i16 {
        if self.is_flexible(version) {
            2
        } else {
            1
        }
    }

    /// The response header version for `version` of this API (0 or 1).
    pub fn response_header_version(self, version: i16) -> i16 {
        if self != ApiKey::ApiVersions && self.is_flexible(version) {
            1
        } else {
            0
        }
    }
}

/// The header that starts every request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequestHeader {
    /// The API being called (may be one this codec does not speak, when decoding).
    pub request_api_key: i16,
    /// The API version.
    pub request_api_version: i16,
    /// Echoed by the broker in the response header.
    pub correlation_id: i32,
    /// The client's name; the broker treats null as empty. Always a classic INT16-length
    /// string, even in header v2.
    pub client_id: Option<String>,
    /// Tagged fields of header v2 that this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

impl RequestHeader {
    /// Writes the header in `header_version` (1 or 2).
    pub fn encode(&self, header_version: i16, buf: &mut BytesMut) -> Result<(), EncodeError> {
        buf.put_i16(self.request_api_key);
        buf.put_i16(self.request_api_version);
        buf.put_i32(self.correlation_id);
        put_nullable_string(buf, false, self.client_id.as_deref(), "client_id")?;
        if header_version >= 2 {
            put_tagged_fields(buf, &[], &self.unknown_tagged_fields);
        }
        Ok(())
    }

    /// Reads a header, working out its version from the API key and version it starts with.
    /// Unknown API keys are read as header v1 (there is no way to know better).
    pub fn decode(r: &mut Reader) -> DecodeResult<RequestHeader> {
        let request_api_key = r.i16("request_api_key")?;
        let request_api_version = r.i16("request_api_version")?;
        let correlation_id = r.i32("correlation_id")?;
        let client_id = r.nullable_string(false, "client_id")?;
        let flexible = ApiKey::from_code(request_api_key)
            .is_some_and(|k| k.request_header_version(request_api_version) >= 2);
        let unknown_tagged_fields = if flexible {
            r.unknown_tagged_fields("request_header._tagged_fields")?
        } else {
            Vec::new()
        };
        Ok(RequestHeader {
            request_api_key,
            request_api_version,
            correlation_id,
            client_id,
            unknown_tagged_fields,
        })
    }
}

/// The header that starts every response.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResponseHeader {
    /// The correlation id of the request this answers.
    pub correlation_id: i32,
    /// Tagged fields of header v1 that this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

impl ResponseHeader {
    /// Writes the header in `header_version` (0 or 1).
    pub fn encode(&self, header_version: i16, buf: &mut BytesMut) {
        buf.put_i32(self.correlation_id);
        if header_version >= 1 {
            put_tagged_fields(buf, &[], &self.unknown_tagged_fields);
        }
    }

    /// Reads a header of `header_version` (0 or 1).
    pub fn decode(r: &mut Reader, header_version: i16) -> DecodeResult<ResponseHeader> {
        let correlation_id = r.i32("correlation_id")?;
        let unknown_tagged_fields = if header_version >= 1 {
            r.unknown_tagged_fields("response_header._tagged_fields")?
        } else {
            Vec::new()
        };
        Ok(ResponseHeader {
            correlation_id,
            unknown_tagged_fields,
        })
    }
}

/// Reserves a size prefix, lets `write` fill the frame, then patches the size.
pub fn write_frame(
    buf: &mut BytesMut,
    write: impl FnOnce(&mut BytesMut) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let start = buf.len();
    buf.put_i32(0);
    write(buf)?;
    let size = buf.len() - start - 4;
    let size = i32::try_from(size).map_err(|_| EncodeError::TooLong {
        field: "frame",
        len: size,
    })?;
    buf[start..start + 4].copy_from_slice(&size.to_be_bytes());
    Ok(())
}

/// Splits a size-prefixed frame off the front of `buf`, if a whole one is there. Returns
/// the frame without its prefix. Fails for a negative size or one above `max_size`.
pub fn split_frame(buf: &mut BytesMut, max_size: usize) -> DecodeResult<Option<Bytes>> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let size = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    if size < 0 || size as usize > max_size {
        return Err(crate::error::DecodeError::new(
            DecodeErrorKind::InvalidLength {
                length: i64::from(size),
                remaining: buf.len() - 4,
            },
            0,
            "frame_size",
        ));
    }
    let size = size as usize;
    if buf.len() < 4 + size {
        return Ok(None);
    }
    let mut frame = buf.split_to(4 + size);
    let _prefix = frame.split_to(4);
    Ok(Some(frame.freeze()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_versions_follow_the_flexible_rule_with_the_api_versions_exception() {
        assert_eq!(ApiKey::Produce.request_header_version(8), 1);
        assert_eq!(ApiKey::Produce.request_header_version(9), 2);
        assert_eq!(ApiKey::Produce.response_header_version(9), 1);
        assert_eq!(ApiKey::Metadata.response_header_version(8), 0);
        assert_eq!(ApiKey::Metadata.response_header_version(9), 1);
        assert_eq!(ApiKey::ApiVersions.request_header_version(3), 2);
        assert_eq!(ApiKey::ApiVersions.response_header_version(4), 0);
    }

    #[test]
    fn a_frame_is_split_only_when_complete() {
        let mut buf = BytesMut::from(&[0u8, 0, 0, 3, 1, 2][..]);
        assert_eq!(split_frame(&mut buf, 100).unwrap(), None);
        buf.put_u8(3);
        buf.put_u8(9);
        assert_eq!(
            &split_frame(&mut buf, 100).unwrap().unwrap()[..],
            &[1, 2, 3]
        );
        assert_eq!(&buf[..], &[9]);
    }

    #[test]
    fn a_negative_or_oversized_frame_size_is_an_error() {
        let mut buf = BytesMut::from(&[0xffu8, 0xff, 0xff, 0xfe][..]);
        assert!(split_frame(&mut buf, 100).is_err());
        let mut buf = BytesMut::from(&[0u8, 0, 1, 0][..]);
        assert!(split_frame(&mut buf, 100).is_err());
    }

    #[test]
    fn api_names_parse_loosely() {
        assert_eq!(ApiKey::from_name("api-versions"), Some(ApiKey::ApiVersions));
        assert_eq!(ApiKey::from_name("Produce"), Some(ApiKey::Produce));
        assert_eq!(ApiKey::from_name("fetch"), None);
    }
}
