//! ApiVersions (key 18), versions 0–5: which APIs and versions a broker serves.
//!
//! A client sends this first. If the broker does not know the requested version it answers
//! with error `UNSUPPORTED_VERSION` and a **v0** body listing the ApiVersions range it does
//! support; [`ApiVersionsResponse::decode_with_fallback`] handles that case.
//!
//! # References
//!
//! - `ApiVersionsRequest.json`, `ApiVersionsResponse.json` in apache/kafka
//! - KIP-511 (client software name and version, v3), KIP-584 (features),
//!   KIP-1242 (cluster id and node id in the request, v5, Kafka 4.4)

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use crate::error::EncodeError;
use crate::error_code::ErrorCode;
use crate::primitives::{
    put_array, put_nullable_string, put_string, put_tagged_fields, DecodeResult, RawTaggedField,
    Reader,
};
use crate::Message;

/// Lowest version supported.
pub const MIN_VERSION: i16 = 0;
/// Highest version supported.
pub const MAX_VERSION: i16 = 5;
/// First version with compact encodings and tagged fields.
pub const FIRST_FLEXIBLE_VERSION: i16 = 3;

/// Asks a broker which API versions it serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiVersionsRequest {
    /// The client's software name (v3+); must match `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?`.
    pub client_software_name: String,
    /// The client's software version (v3+); same pattern.
    pub client_software_version: String,
    /// The cluster the client expects to reach (v5+), or null.
    pub cluster_id: Option<String>,
    /// The node the client expects to reach (v5+), or -1.
    pub node_id: i32,
    /// Tagged fields this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

impl Default for ApiVersionsRequest {
    fn default() -> Self {
        ApiVersionsRequest {
            client_software_name: String::new(),
            client_software_version: String::new(),
            cluster_id: None,
            node_id: -1,
            unknown_tagged_fields: Vec::new(),
        }
    }
}

impl Message for ApiVersionsRequest {
    const NAME: &'static str = "ApiVersionsRequest";
    const API_KEY: i16 = 18;
    const MIN_VERSION: i16 = MIN_VERSION;
    const MAX_VERSION: i16 = MAX_VERSION;

    fn encode_body(&self, version: i16, buf: &mut BytesMut) -> Result<(), EncodeError> {
        if version < 3 {
            return Ok(());
        }
        put_string(
            buf,
            true,
            &self.client_software_name,
            "client_software_name",
        )?;
        put_string(
            buf,
            true,
            &self.client_software_version,
            "client_software_version",
        )?;
        if version >= 5 {
            put_nullable_string(buf, true, self.cluster_id.as_deref(), "cluster_id")?;
            buf.put_i32(self.node_id);
        }
        put_tagged_fields(buf, &[], &self.unknown_tagged_fields);
        Ok(())
    }

    fn decode_body(r: &mut Reader, version: i16) -> DecodeResult<Self> {
        let mut out = ApiVersionsRequest::default();
        if version < 3 {
            return Ok(out);
        }
        out.client_software_name = r.string(true, "client_software_name")?;
        out.client_software_version = r.string(true, "client_software_version")?;
        if version >= 5 {
            out.cluster_id = r.nullable_string(true, "cluster_id")?;
            out.node_id = r.i32("node_id")?;
        }
        out.unknown_tagged_fields = r.unknown_tagged_fields("_tagged_fields")?;
        Ok(out)
    }
}

/// One API's supported version range.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiVersion {
    /// The API key.
    pub api_key: i16,
    /// Lowest version served.
    pub min_version: i16,
    /// Highest version served.
    pub max_version: i16,
    /// Tagged fields this codec has no name for (v3+).
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

/// A feature the broker supports (v3+, tagged field 0).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupportedFeatureKey {
    /// The feature name.
    pub name: String,
    /// Lowest supported version.
    pub min_version: i16,
    /// Highest supported version.
    pub max_version: i16,
    /// Tagged fields this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

/// A cluster-wide finalized feature level (v3+, tagged field 2).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FinalizedFeatureKey {
    /// The feature name.
    pub name: String,
    /// Highest finalized level (written before the minimum on the wire).
    pub max_version_level: i16,
    /// Lowest finalized level.
    pub min_version_level: i16,
    /// Tagged fields this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

/// What a broker serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiVersionsResponse {
    /// Top-level error.
    pub error_code: ErrorCode,
    /// One entry per API the broker serves on this listener.
    pub api_keys: Vec<ApiVersion>,
    /// Throttle time in ms (v1+).
    pub throttle_time_ms: i32,
    /// Features the broker supports (v3+, tag 0).
    pub supported_features: Vec<SupportedFeatureKey>,
    /// Epoch of the finalized features, -1 if unknown (v3+, tag 1).
    pub finalized_features_epoch: i64,
    /// Finalized feature levels (v3+, tag 2).
    pub finalized_features: Vec<FinalizedFeatureKey>,
    /// Whether the controller is ready for a ZooKeeper migration (v3+, tag 3).
    pub zk_migration_ready: bool,
    /// Tagged fields this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

impl Default for ApiVersionsResponse {
    fn default() -> Self {
        ApiVersionsResponse {
            error_code: ErrorCode::None,
            api_keys: Vec::new(),
            throttle_time_ms: 0,
            supported_features: Vec::new(),
            finalized_features_epoch: -1,
            finalized_features: Vec::new(),
            zk_migration_ready: false,
            unknown_tagged_fields: Vec::new(),
        }
    }
}

impl ApiVersionsResponse {
    /// The served range of `api_key`, if the broker lists it.
    pub fn range(&self, api_key: i16) -> Option<(i16, i16)> {
        self.api_keys
            .iter()
            .find(|k| k.api_key == api_key)
            .map(|k| (k.min_version, k.max_version))
    }

    /// Decodes a response body to a request sent at `version`. When the body's error code is
    /// `UNSUPPORTED_VERSION`, the broker wrote a v0 body whatever was asked, so it is read
    /// as v0. Returns the response and the version it was read at.
    pub fn decode_with_fallback(body: Bytes, version: i16) -> DecodeResult<(Self, i16)> {
        if body.len() >= 2 && i16::from_be_bytes([body[0], body[1]]) == 35 && version > 0 {
            let mut r = Reader::new(body);
            let resp = Self::decode_body(&mut r, 0).map_err(|e| e.in_message(Self::NAME, 0))?;
            r.finish("_end").map_err(|e| e.in_message(Self::NAME, 0))?;
            return Ok((resp, 0));
        }
        let resp = Self::decode(body, version)?;
        Ok((resp, version))
    }
}

fn put_features(
    version: i16,
    resp: &ApiVersionsResponse,
) -> Result<Vec<(u32, Bytes)>, EncodeError> {
    let mut known = Vec::new();
    if version < 3 {
        return Ok(known);
    }
    if !resp.supported_features.is_empty() {
        let mut b = BytesMut::new();
        put_array(
            &mut b,
            true,
            &resp.supported_features,
            "supported_features",
            |b, f| {
                put_string(b, true, &f.name, "supported_features.name")?;
                b.put_i16(f.min_version);
                b.put_i16(f.max_version);
                put_tagged_fields(b, &[], &f.unknown_tagged_fields);
                Ok(())
            },
        )?;
        known.push((0, b.freeze()));
    }
    if resp.finalized_features_epoch != -1 {
        known.push((
            1,
            Bytes::copy_from_slice(&resp.finalized_features_epoch.to_be_bytes()),
        ));
    }
    if !resp.finalized_features.is_empty() {
        let mut b = BytesMut::new();
        put_array(
            &mut b,
            true,
            &resp.finalized_features,
            "finalized_features",
            |b, f| {
                put_string(b, true, &f.name, "finalized_features.name")?;
                b.put_i16(f.max_version_level);
                b.put_i16(f.min_version_level);
                put_tagged_fields(b, &[], &f.unknown_tagged_fields);
                Ok(())
            },
        )?;
        known.push((2, b.freeze()));
    }
    if resp.zk_migration_ready {
        known.push((3, Bytes::from_static(&[1])));
    }
    Ok(known)
}

impl Message for ApiVersionsResponse {
    const NAME: &'static str = "ApiVersionsResponse";
    const API_KEY: i16 = 18;
    const MIN_VERSION: i16 = MIN_VERSION;
    const MAX_VERSION: i16 = MAX_VERSION;

    fn encode_body(&self, version: i16, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let flexible = version >= FIRST_FLEXIBLE_VERSION;
        buf.put_i16(self.error_code.code());
        put_array(buf, flexible, &self.api_keys, "api_keys", |b, k| {
            b.put_i16(k.api_key);
            b.put_i16(k.min_version);
            b.put_i16(k.max_version);
            if flexible {
                put_tagged_fields(b, &[], &k.unknown_tagged_fields);
            }
            Ok(())
        })?;
        if version >= 1 {
            buf.put_i32(self.throttle_time_ms);
        }
        if flexible {
            let known = put_features(version, self)?;
            put_tagged_fields(buf, &known, &self.unknown_tagged_fields);
        }
        Ok(())
    }

    fn decode_body(r: &mut Reader, version: i16) -> DecodeResult<Self> {
        let flexible = version >= FIRST_FLEXIBLE_VERSION;
        let mut out = ApiVersionsResponse {
            error_code: ErrorCode::from_code(r.i16("error_code")?),
            ..Default::default()
        };
        out.api_keys = r.array(flexible, 6, "api_keys", |r| {
            Ok(ApiVersion {
                api_key: r.i16("api_keys.api_key")?,
                min_version: r.i16("api_keys.min_version")?,
                max_version: r.i16("api_keys.max_version")?,
                unknown_tagged_fields: if flexible {
                    r.unknown_tagged_fields("api_keys._tagged_fields")?
                } else {
                    Vec::new()
                },
            })
        })?;
        if version >= 1 {
            out.throttle_time_ms = r.i32("throttle_time_ms")?;
        }
        if flexible {
            let mut supported = Vec::new();
            let mut epoch = -1;
            let mut finalized = Vec::new();
            let mut zk = false;
            out.unknown_tagged_fields = r.tagged_fields("_tagged_fields", |tag, r| {
                // A field equal to its default is kept raw (see `Reader::tagged_fields`).
                match tag {
                    0 => {
                        supported = r.array(true, 6, "supported_features", |r| {
                            Ok(SupportedFeatureKey {
                                name: r.string(true, "supported_features.name")?,
                                min_version: r.i16("supported_features.min_version")?,
                                max_version: r.i16("supported_features.max_version")?,
                                unknown_tagged_fields: r
                                    .unknown_tagged_fields("supported_features._tagged_fields")?,
                            })
                        })?;
                        Ok(!supported.is_empty())
                    }
                    1 => {
                        epoch = r.i64("finalized_features_epoch")?;
                        Ok(epoch != -1)
                    }
                    2 => {
                        finalized = r.array(true, 6, "finalized_features", |r| {
                            Ok(FinalizedFeatureKey {
                                name: r.string(true, "finalized_features.name")?,
                                max_version_level: r.i16("finalized_features.max_version_level")?,
                                min_version_level: r.i16("finalized_features.min_version_level")?,
                                unknown_tagged_fields: r
                                    .unknown_tagged_fields("finalized_features._tagged_fields")?,
                            })
                        })?;
                        Ok(!finalized.is_empty())
                    }
                    3 => {
                        zk = r.bool("zk_migration_ready")?;
                        Ok(zk)
                    }
                    _ => Ok(false),
                }
            })?;
            out.supported_features = supported;
            out.finalized_features_epoch = epoch;
            out.finalized_features = finalized;
            out.zk_migration_ready = zk;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::RequestHeader;
    use crate::{encode_request_frame, hex};

    #[test]
    fn v4_request_matches_the_reference_bytes() {
        let req = ApiVersionsRequest {
            client_software_name: "rk".into(),
            client_software_version: "0.1".into(),
            ..Default::default()
        };
        let header = RequestHeader {
            request_api_key: 18,
            request_api_version: 4,
            correlation_id: 1,
            client_id: Some("rk".into()),
            unknown_tagged_fields: vec![],
        };
        let mut buf = BytesMut::new();
        encode_request_frame(&header, &req, &mut buf).unwrap();
        assert_eq!(
            hex(&buf),
            "0000001500120004000000010002726b0003726b04302e3100"
        );
    }

    #[test]
    fn unsupported_version_answer_is_read_as_v0() {
        // Body of the broker's answer to a v5 request it does not know (KAFKA-NOTES 1.5).
        let body = Bytes::from_static(&[0x00, 0x23, 0, 0, 0, 1, 0x00, 0x12, 0, 0, 0, 4]);
        let (resp, read_as) = ApiVersionsResponse::decode_with_fallback(body, 5).unwrap();
        assert_eq!(read_as, 0);
        assert_eq!(resp.error_code, ErrorCode::UnsupportedVersion);
        assert_eq!(resp.range(18), Some((0, 4)));
    }
}
