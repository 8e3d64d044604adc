//! Metadata (key 3), versions 0–13: brokers, topics, partitions and their leaders.
//!
//! # References
//!
//! - `MetadataRequest.json`, `MetadataResponse.json` in apache/kafka
//! - KIP-516 (topic ids, v10), KIP-1102 (top-level error code, v13)

use bytes::{BufMut, BytesMut};
use serde::{Deserialize, Serialize};

use crate::error::EncodeError;
use crate::error_code::ErrorCode;
use crate::primitives::{
    put_array, put_array_len, put_nullable_string, put_string, put_tagged_fields, DecodeResult,
    RawTaggedField, Reader, Uuid,
};
use crate::Message;

/// Lowest version supported.
pub const MIN_VERSION: i16 = 0;
/// Highest version supported.
pub const MAX_VERSION: i16 = 13;
/// First version with compact encodings and tagged fields.
pub const FIRST_FLEXIBLE_VERSION: i16 = 9;

/// "Not provided" for the authorized-operations fields.
pub const AUTHORIZED_OPERATIONS_OMITTED: i32 = i32::MIN;

/// One topic asked about.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetadataRequestTopic {
    /// The topic id (v10+); all zeros when asking by name.
    #[serde(with = "crate::json::uuid_hex")]
    pub topic_id: Uuid,
    /// The topic name; null only when asking by id (v12+ in practice, v10+ on the wire).
    pub name: Option<String>,
    /// Tagged fields this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

/// Asks for cluster metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetadataRequest {
    /// The topics to describe; `None` means all topics. At v0 an empty array on the wire
    /// means all topics, so v0 cannot ask for none.
    pub topics: Option<Vec<MetadataRequestTopic>>,
    /// Whether the broker may create a missing topic (v4+; always true before).
    pub allow_auto_topic_creation: bool,
    /// Whether to include cluster authorized operations (v8–10).
    pub include_cluster_authorized_operations: bool,
    /// Whether to include topic authorized operations (v8+).
    pub include_topic_authorized_operations: bool,
    /// Tagged fields this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

impl Default for MetadataRequest {
    fn default() -> Self {
        MetadataRequest {
            topics: None,
            allow_auto_topic_creation: true,
            include_cluster_authorized_operations: false,
            include_topic_authorized_operations: false,
            unknown_tagged_fields: Vec::new(),
        }
    }
}

impl MetadataRequest {
    /// A request for the named topics.
    pub fn for_topics<S: AsRef<str>>(names: &[S], allow_auto_topic_creation: bool) -> Self {
        MetadataRequest {
            topics: Some(
                names
                    .iter()
                    .map(|n| MetadataRequestTopic {
                        name: Some(n.as_ref().to_owned()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            allow_auto_topic_creation,
            ..Default::default()
        }
    }
}

impl Message for MetadataRequest {
    const NAME: &'static str = "MetadataRequest";
    const API_KEY: i16 = 3;
    const MIN_VERSION: i16 = MIN_VERSION;
    const MAX_VERSION: i16 = MAX_VERSION;

    fn encode_body(&self, version: i16, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let flexible = version >= FIRST_FLEXIBLE_VERSION;
        let unrepresentable = |field, reason| EncodeError::FieldNotRepresentable {
            message: Self::NAME,
            version,
            field,
            reason,
        };
        match &self.topics {
            None if version == 0 => put_array_len(buf, false, Some(0), "topics")?,
            Some(t) if t.is_empty() && version == 0 => {
                return Err(unrepresentable("topics", "v0 cannot ask for no topics"))
            }
            None => put_array_len(buf, flexible, None, "topics")?,
            Some(topics) => {
                put_array_len(buf, flexible, Some(topics.len()), "topics")?;
                for t in topics {
                    if version >= 10 {
                        buf.put_slice(&t.topic_id);
                        put_nullable_string(buf, flexible, t.name.as_deref(), "topics.name")?;
                    } else {
                        let name = t.name.as_deref().ok_or_else(|| {
                            unrepresentable("topics.name", "a null name needs v10 or later")
                        })?;
                        put_string(buf, flexible, name, "topics.name")?;
                    }
                    if flexible {
                        put_tagged_fields(buf, &[], &t.unknown_tagged_fields);
                    }
                }
            }
        }
        if version >= 4 {
            buf.put_u8(u8::from(self.allow_auto_topic_creation));
        }
        if (8..=10).contains(&version) {
            buf.put_u8(u8::from(self.include_cluster_authorized_operations));
        }
        if version >= 8 {
            buf.put_u8(u8::from(self.include_topic_authorized_operations));
        }
        if flexible {
            put_tagged_fields(buf, &[], &self.unknown_tagged_fields);
        }
        Ok(())
    }

    fn decode_body(r: &mut Reader, version: i16) -> DecodeResult<Self> {
        let flexible = version >= FIRST_FLEXIBLE_VERSION;
        let mut out = MetadataRequest::default();
        let min_topic = if version >= 10 { 17 } else { 1 };
        let read_topic = |r: &mut Reader| {
            let mut t = MetadataRequestTopic::default();
            if version >= 10 {
                t.topic_id = r.uuid("topics.topic_id")?;
                t.name = r.nullable_string(flexible, "topics.name")?;
            } else {
                t.name = Some(r.string(flexible, "topics.name")?);
            }
            if flexible {
                t.unknown_tagged_fields = r.unknown_tagged_fields("topics._tagged_fields")?;
            }
            Ok(t)
        };
        out.topics = if version == 0 {
            // Not nullable at v0, where an empty array means all topics.
            Some(r.array(false, min_topic, "topics", read_topic)?).filter(|t| !t.is_empty())
        } else {
            r.nullable_array(flexible, min_topic, "topics", read_topic)?
        };
        if version >= 4 {
            out.allow_auto_topic_creation = r.bool("allow_auto_topic_creation")?;
        }
        if (8..=10).contains(&version) {
            out.include_cluster_authorized_operations =
                r.bool("include_cluster_authorized_operations")?;
        }
        if version >= 8 {
            out.include_topic_authorized_operations =
                r.bool("include_topic_authorized_operations")?;
        }
        if flexible {
            out.unknown_tagged_fields = r.unknown_tagged_fields("_tagged_fields")?;
        }
        Ok(out)
    }
}

/// A broker in the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetadataResponseBroker {
    /// The broker's id.
    pub node_id: i32,
    /// Host name to connect to.
    pub host: String,
    /// Port to connect to.
    pub port: i32,
    /// The broker's rack (v1+).
    pub rack: Option<String>,
    /// Tagged fields this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

/// One partition of a topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetadataResponsePartition {
    /// The partition's error.
    pub error_code: ErrorCode,
    /// The partition number.
    pub partition_index: i32,
    /// The leader's broker id, or -1.
    pub leader_id: i32,
    /// The leader epoch (v7+), or -1.
    pub leader_epoch: i32,
    /// All replicas.
    pub replica_nodes: Vec<i32>,
    /// In-sync replicas.
    pub isr_nodes: Vec<i32>,
    /// Offline replicas (v5+).
    pub offline_replicas: Vec<i32>,
    /// Tagged fields this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

impl Default for MetadataResponsePartition {
    fn default() -> Self {
        MetadataResponsePartition {
            error_code: ErrorCode::None,
            partition_index: 0,
            leader_id: -1,
            leader_epoch: -1,
            replica_nodes: Vec::new(),
            isr_nodes: Vec::new(),
            offline_replicas: Vec::new(),
            unknown_tagged_fields: Vec::new(),
        }
    }
}

/// One topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetadataResponseTopic {
    /// The topic's error.
    pub error_code: ErrorCode,
    /// The topic name; null only for an unknown topic asked for by id (v12+).
    pub name: Option<String>,
    /// The topic id (v10+).
    #[serde(with = "crate::json::uuid_hex")]
    pub topic_id: Uuid,
    /// Whether the topic is internal (v1+).
    pub is_internal: bool,
    /// The topic's partitions.
    pub partitions: Vec<MetadataResponsePartition>,
    /// Authorized operations bit field (v8+), or [`AUTHORIZED_OPERATIONS_OMITTED`].
    pub topic_authorized_operations: i32,
    /// Tagged fields this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

impl Default for MetadataResponseTopic {
    fn default() -> Self {
        MetadataResponseTopic {
            error_code: ErrorCode::None,
            name: Some(String::new()),
            topic_id: [0; 16],
            is_internal: false,
            partitions: Vec::new(),
            topic_authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
            unknown_tagged_fields: Vec::new(),
        }
    }
}

/// Cluster metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetadataResponse {
    /// Throttle time in ms (v3+).
    pub throttle_time_ms: i32,
    /// Alive brokers with this listener.
    pub brokers: Vec<MetadataResponseBroker>,
    /// The cluster id (v2+).
    pub cluster_id: Option<String>,
    /// A broker id (v1+); in KRaft a random alive broker, not the controller.
    pub controller_id: i32,
    /// The topics asked about (or all of them).
    pub topics: Vec<MetadataResponseTopic>,
    /// Cluster authorized operations (v8–10), or [`AUTHORIZED_OPERATIONS_OMITTED`].
    pub cluster_authorized_operations: i32,
    /// Top-level error (v13+).
    pub error_code: ErrorCode,
    /// Tagged fields this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

impl Default for MetadataResponse {
    fn default() -> Self {
        MetadataResponse {
            throttle_time_ms: 0,
            brokers: Vec::new(),
            cluster_id: None,
            controller_id: -1,
            topics: Vec::new(),
            cluster_authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
            error_code: ErrorCode::None,
            unknown_tagged_fields: Vec::new(),
        }
    }
}

fn put_i32_array(
    buf: &mut BytesMut,
    flexible: bool,
    v: &[i32],
    field: &'static str,
) -> Result<(), EncodeError> {
    put_array(buf, flexible, v, field, |b, x| {
        b.put_i32(*x);
        Ok(())
    })
}

impl Message for MetadataResponse {
    const NAME: &'static str = "MetadataResponse";
    const API_KEY: i16 = 3;
    const MIN_VERSION: i16 = MIN_VERSION;
    const MAX_VERSION: i16 = MAX_VERSION;

    fn encode_body(&self, version: i16, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let flexible = version >= FIRST_FLEXIBLE_VERSION;
        if version >= 3 {
            buf.put_i32(self.throttle_time_ms);
        }
        put_array(buf, flexible, &self.brokers, "brokers", |b, br| {
            b.put_i32(br.node_id);
            put_string(b, flexible, &br.host, "brokers.host")?;
            b.put_i32(br.port);
            if version >= 1 {
                put_nullable_string(b, flexible, br.rack.as_deref(), "brokers.rack")?;
            }
            if flexible {
                put_tagged_fields(b, &[], &br.unknown_tagged_fields);
            }
            Ok(())
        })?;
        if version >= 2 {
            put_nullable_string(buf, flexible, self.cluster_id.as_deref(), "cluster_id")?;
        }
        if version >= 1 {
            buf.put_i32(self.controller_id);
        }
        put_array(buf, flexible, &self.topics, "topics", |b, t| {
            b.put_i16(t.error_code.code());
            if version >= 12 {
                put_nullable_string(b, flexible, t.name.as_deref(), "topics.name")?;
            } else {
                let name = t
                    .name
                    .as_deref()
                    .ok_or(EncodeError::FieldNotRepresentable {
                        message: Self::NAME,
                        version,
                        field: "topics.name",
                        reason: "a null name needs v12 or later",
                    })?;
                put_string(b, flexible, name, "topics.name")?;
            }
            if version >= 10 {
                b.put_slice(&t.topic_id);
            }
            if version >= 1 {
                b.put_u8(u8::from(t.is_internal));
            }
            put_array(b, flexible, &t.partitions, "topics.partitions", |b, p| {
                b.put_i16(p.error_code.code());
                b.put_i32(p.partition_index);
                b.put_i32(p.leader_id);
                if version >= 7 {
                    b.put_i32(p.leader_epoch);
                }
                put_i32_array(b, flexible, &p.replica_nodes, "partitions.replica_nodes")?;
                put_i32_array(b, flexible, &p.isr_nodes, "partitions.isr_nodes")?;
                if version >= 5 {
                    put_i32_array(
                        b,
                        flexible,
                        &p.offline_replicas,
                        "partitions.offline_replicas",
                    )?;
                }
                if flexible {
                    put_tagged_fields(b, &[], &p.unknown_tagged_fields);
                }
                Ok(())
            })?;
            if version >= 8 {
                b.put_i32(t.topic_authorized_operations);
            }
            if flexible {
                put_tagged_fields(b, &[], &t.unknown_tagged_fields);
            }
            Ok(())
        })?;
        if (8..=10).contains(&version) {
            buf.put_i32(self.cluster_authorized_operations);
        }
        if version >= 13 {
            buf.put_i16(self.error_code.code());
        }
        if flexible {
            put_tagged_fields(buf, &[], &self.unknown_tagged_fields);
        }
        Ok(())
    }

    fn decode_body(r: &mut Reader, version: i16) -> DecodeResult<Self> {
        let flexible = version >= FIRST_FLEXIBLE_VERSION;
        let mut out = MetadataResponse::default();
        if version >= 3 {
            out.throttle_time_ms = r.i32("throttle_time_ms")?;
        }
        out.brokers = r.array(flexible, 9, "brokers", |r| {
            let mut b = MetadataResponseBroker {
                node_id: r.i32("brokers.node_id")?,
                host: r.string(flexible, "brokers.host")?,
                port: r.i32("brokers.port")?,
                ..Default::default()
            };
            if version >= 1 {
                b.rack = r.nullable_string(flexible, "brokers.rack")?;
            }
            if flexible {
                b.unknown_tagged_fields = r.unknown_tagged_fields("brokers._tagged_fields")?;
            }
            Ok(b)
        })?;
        if version >= 2 {
            out.cluster_id = r.nullable_string(flexible, "cluster_id")?;
        }
        if version >= 1 {
            out.controller_id = r.i32("controller_id")?;
        }
        out.topics = r.array(flexible, 4, "topics", |r| {
            let mut t = MetadataResponseTopic {
                error_code: ErrorCode::from_code(r.i16("topics.error_code")?),
                ..Default::default()
            };
            t.name = if version >= 12 {
                r.nullable_string(flexible, "topics.name")?
            } else {
                Some(r.string(flexible, "topics.name")?)
            };
            if version >= 10 {
                t.topic_id = r.uuid("topics.topic_id")?;
            }
            if version >= 1 {
                t.is_internal = r.bool("topics.is_internal")?;
            }
            t.partitions = r.array(flexible, 14, "topics.partitions", |r| {
                let mut p = MetadataResponsePartition {
                    error_code: ErrorCode::from_code(r.i16("partitions.error_code")?),
                    partition_index: r.i32("partitions.partition_index")?,
                    leader_id: r.i32("partitions.leader_id")?,
                    ..Default::default()
                };
                if version >= 7 {
                    p.leader_epoch = r.i32("partitions.leader_epoch")?;
                }
                p.replica_nodes = r.array(flexible, 4, "partitions.replica_nodes", |r| {
                    r.i32("partitions.replica_nodes")
                })?;
                p.isr_nodes = r.array(flexible, 4, "partitions.isr_nodes", |r| {
                    r.i32("partitions.isr_nodes")
                })?;
                if version >= 5 {
                    p.offline_replicas =
                        r.array(flexible, 4, "partitions.offline_replicas", |r| {
                            r.i32("partitions.offline_replicas")
                        })?;
                }
                if flexible {
                    p.unknown_tagged_fields =
                        r.unknown_tagged_fields("partitions._tagged_fields")?;
                }
                Ok(p)
            })?;
            if version >= 8 {
                t.topic_authorized_operations = r.i32("topics.topic_authorized_operations")?;
            }
            if flexible {
                t.unknown_tagged_fields = r.unknown_tagged_fields("topics._tagged_fields")?;
            }
            Ok(t)
        })?;
        if (8..=10).contains(&version) {
            out.cluster_authorized_operations = r.i32("cluster_authorized_operations")?;
        }
        if version >= 13 {
            out.error_code = ErrorCode::from_code(r.i16("error_code")?);
        }
        if flexible {
            out.unknown_tagged_fields = r.unknown_tagged_fields("_tagged_fields")?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::RequestHeader;
    use crate::{encode_request_frame, hex};
    use bytes::Bytes;

    #[test]
    fn v12_request_matches_the_reference_bytes() {
        let req = MetadataRequest::for_topics(&["t"], true);
        let header = RequestHeader {
            request_api_key: 3,
            request_api_version: 12,
            correlation_id: 2,
            client_id: Some("rk".into()),
            unknown_tagged_fields: vec![],
        };
        let mut buf = BytesMut::new();
        encode_request_frame(&header, &req, &mut buf).unwrap();
        assert_eq!(
            hex(&buf),
            format!(
                "000000240003000c000000020002726b0002{}027400010000",
                "00".repeat(16)
            )
        );
    }

    #[test]
    fn v0_all_topics_is_an_empty_array() {
        let mut buf = BytesMut::new();
        MetadataRequest::default().encode(0, &mut buf).unwrap();
        assert_eq!(&buf[..], &[0, 0, 0, 0]);
        let back = MetadataRequest::decode(buf.freeze(), 0).unwrap();
        assert_eq!(back.topics, None);
    }

    #[test]
    fn every_version_round_trips_a_full_response() {
        for version in MIN_VERSION..=MAX_VERSION {
            let mut resp = MetadataResponse {
                brokers: vec![MetadataResponseBroker {
                    node_id: 1,
                    host: "127.0.0.1".into(),
                    port: 9092,
                    ..Default::default()
                }],
                topics: vec![MetadataResponseTopic {
                    name: Some("t".into()),
                    partitions: vec![MetadataResponsePartition {
                        partition_index: 0,
                        leader_id: 1,
                        replica_nodes: vec![1],
                        isr_nodes: vec![1],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            };
            if version >= 2 {
                resp.cluster_id = Some("c".into());
            }
            let mut buf = BytesMut::new();
            resp.encode(version, &mut buf).unwrap();
            let back = MetadataResponse::decode(Bytes::from(buf.to_vec()), version).unwrap();
            assert_eq!(back, resp, "version {version}");
        }
    }
}
