//! Produce (key 0), versions 3–13: write record batches to partition leaders.
//!
//! Versions 0–2 carried the old message formats and are refused by Kafka 4.x brokers even
//! though they advertise a minimum of 0 (KAFKA-18659), so this codec starts at v3.
//!
//! # References
//!
//! - `ProduceRequest.json`, `ProduceResponse.json` in apache/kafka
//! - KIP-467 (record errors, v8), KIP-951 (current leader and node endpoints, v10),
//!   KIP-890 (v11, v12), KIP-516 (topic ids instead of names, v13)

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use crate::error::EncodeError;
use crate::error_code::ErrorCode;
use crate::primitives::{
    put_array, put_nullable_bytes, put_nullable_string, put_string, put_tagged_fields,
    DecodeResult, RawTaggedField, Reader, Uuid,
};
use crate::Message;

/// Lowest version supported.
pub const MIN_VERSION: i16 = 3;
/// Highest version supported.
pub const MAX_VERSION: i16 = 13;
/// First version with compact encodings and tagged fields.
pub const FIRST_FLEXIBLE_VERSION: i16 = 9;
/// First version that names topics by id rather than by name.
pub const FIRST_TOPIC_ID_VERSION: i16 = 13;

/// The records for one partition.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PartitionProduceData {
    /// The partition number.
    pub index: i32,
    /// Encoded record batches (a broker accepts exactly one per partition), or null.
    #[serde(with = "crate::json::opt_hex_bytes")]
    pub records: Option<Bytes>,
    /// Tagged fields this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

/// The records for one topic.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopicProduceData {
    /// The topic name (v3–12).
    pub name: String,
    /// The topic id (v13+).
    #[serde(with = "crate::json::uuid_hex")]
    pub topic_id: Uuid,
    /// One entry per partition.
    pub partition_data: Vec<PartitionProduceData>,
    /// Tagged fields this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

/// Writes records.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProduceRequest {
    /// The transactional id, or null for a non-transactional producer.
    pub transactional_id: Option<String>,
    /// 0 (no response), 1 (leader) or -1 (all in-sync replicas).
    pub acks: i16,
    /// How long the broker may wait for replication, in ms.
    pub timeout_ms: i32,
    /// One entry per topic.
    pub topic_data: Vec<TopicProduceData>,
    /// Tagged fields this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

impl Message for ProduceRequest {
    const NAME: &'static str = "ProduceRequest";
    const API_KEY: i16 = 0;
    const MIN_VERSION: i16 = MIN_VERSION;
    const MAX_VERSION: i16 = MAX_VERSION;

    fn encode_body(&self, version: i16, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let flexible = version >= FIRST_FLEXIBLE_VERSION;
        put_nullable_string(
            buf,
            flexible,
            self.transactional_id.as_deref(),
            "transactional_id",
        )?;
        buf.put_i16(self.acks);
        buf.put_i32(self.timeout_ms);
        put_array(buf, flexible, &self.topic_data, "topic_data", |b, t| {
            if version >= FIRST_TOPIC_ID_VERSION {
                b.put_slice(&t.topic_id);
            } else {
                put_string(b, flexible, &t.name, "topic_data.name")?;
            }
            put_array(
                b,
                flexible,
                &t.partition_data,
                "topic_data.partition_data",
                |b, p| {
                    b.put_i32(p.index);
                    put_nullable_bytes(
                        b,
                        flexible,
                        p.records.as_deref(),
                        "partition_data.records",
                    )?;
                    if flexible {
                        put_tagged_fields(b, &[], &p.unknown_tagged_fields);
                    }
                    Ok(())
                },
            )?;
            if flexible {
                put_tagged_fields(b, &[], &t.unknown_tagged_fields);
            }
            Ok(())
        })?;
        if flexible {
            put_tagged_fields(buf, &[], &self.unknown_tagged_fields);
        }
        Ok(())
    }

    fn decode_body(r: &mut Reader, version: i16) -> DecodeResult<Self> {
        let flexible = version >= FIRST_FLEXIBLE_VERSION;
        let transactional_id = r.nullable_string(flexible, "transactional_id")?;
        let acks = r.i16("acks")?;
        let timeout_ms = r.i32("timeout_ms")?;
        let topic_data = r.array(flexible, 2, "topic_data", |r| {
            let mut t = TopicProduceData::default();
            if version >= FIRST_TOPIC_ID_VERSION {
                t.topic_id = r.uuid("topic_data.topic_id")?;
            } else {
                t.name = r.string(flexible, "topic_data.name")?;
            }
            t.partition_data = r.array(flexible, 5, "topic_data.partition_data", |r| {
                let mut p = PartitionProduceData {
                    index: r.i32("partition_data.index")?,
                    records: r.nullable_bytes(flexible, "partition_data.records")?,
                    ..Default::default()
                };
                if flexible {
                    p.unknown_tagged_fields =
                        r.unknown_tagged_fields("partition_data._tagged_fields")?;
                }
                Ok(p)
            })?;
            if flexible {
                t.unknown_tagged_fields = r.unknown_tagged_fields("topic_data._tagged_fields")?;
            }
            Ok(t)
        })?;
        let unknown_tagged_fields = if flexible {
            r.unknown_tagged_fields("_tagged_fields")?
        } else {
            Vec::new()
        };
        Ok(ProduceRequest {
            transactional_id,
            acks,
            timeout_ms,
            topic_data,
            unknown_tagged_fields,
        })
    }
}

/// Why one record made its batch fail (v8+).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchIndexAndErrorMessage {
    /// Index of the record in the batch.
    pub batch_index: i32,
    /// What was wrong with it.
    pub batch_index_error_message: Option<String>,
    /// Tagged fields this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

/// The leader the broker believes in (v10+, tagged field 0 of a partition response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeaderIdAndEpoch {
    /// The leader's id, or -1.
    pub leader_id: i32,
    /// The leader's epoch, or -1.
    pub leader_epoch: i32,
    /// Tagged fields this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

impl Default for LeaderIdAndEpoch {
    fn default() -> Self {
        LeaderIdAndEpoch {
            leader_id: -1,
            leader_epoch: -1,
            unknown_tagged_fields: Vec::new(),
        }
    }
}

/// The result for one partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PartitionProduceResponse {
    /// The partition number.
    pub index: i32,
    /// The partition's error.
    pub error_code: ErrorCode,
    /// Offset given to the first record, or -1 on error.
    pub base_offset: i64,
    /// The broker's append time for LogAppendTime topics, else -1.
    pub log_append_time_ms: i64,
    /// The partition's log start offset (v5+), or -1.
    pub log_start_offset: i64,
    /// Records that made the batch fail (v8+).
    pub record_errors: Vec<BatchIndexAndErrorMessage>,
    /// A message for the whole batch (v8+).
    pub error_message: Option<String>,
    /// The current leader, when this broker is not it (v10+, tag 0).
    pub current_leader: LeaderIdAndEpoch,
    /// Tagged fields this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

impl Default for PartitionProduceResponse {
    fn default() -> Self {
        PartitionProduceResponse {
            index: 0,
            error_code: ErrorCode::None,
            base_offset: -1,
            log_append_time_ms: -1,
            log_start_offset: -1,
            record_errors: Vec::new(),
            error_message: None,
            current_leader: LeaderIdAndEpoch::default(),
            unknown_tagged_fields: Vec::new(),
        }
    }
}

/// The results for one topic.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopicProduceResponse {
    /// The topic name (v3–12).
    pub name: String,
    /// The topic id (v13+).
    #[serde(with = "crate::json::uuid_hex")]
    pub topic_id: Uuid,
    /// One entry per partition.
    pub partition_responses: Vec<PartitionProduceResponse>,
    /// Tagged fields this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

/// A broker's address, sent with NOT_LEADER_OR_FOLLOWER errors (v10+).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeEndpoint {
    /// The broker's id.
    pub node_id: i32,
    /// Host name.
    pub host: String,
    /// Port.
    pub port: i32,
    /// Rack, or null.
    pub rack: Option<String>,
    /// Tagged fields this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

/// The result of a produce request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProduceResponse {
    /// One entry per topic.
    pub responses: Vec<TopicProduceResponse>,
    /// Throttle time in ms.
    pub throttle_time_ms: i32,
    /// Addresses of the leaders named in `current_leader` fields (v10+, tag 0).
    pub node_endpoints: Vec<NodeEndpoint>,
    /// Tagged fields this codec has no name for.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

impl Message for ProduceResponse {
    const NAME: &'static str = "ProduceResponse";
    const API_KEY: i16 = 0;
    const MIN_VERSION: i16 = MIN_VERSION;
    const MAX_VERSION: i16 = MAX_VERSION;

    fn encode_body(&self, version: i16, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let flexible = version >= FIRST_FLEXIBLE_VERSION;
        put_array(buf, flexible, &self.responses, "responses", |b, t| {
            if version >= FIRST_TOPIC_ID_VERSION {
                b.put_slice(&t.topic_id);
            } else {
                put_string(b, flexible, &t.name, "responses.name")?;
            }
            put_array(
                b,
                flexible,
                &t.partition_responses,
                "partition_responses",
                |b, p| encode_partition_response(p, version, b),
            )?;
            if flexible {
                put_tagged_fields(b, &[], &t.unknown_tagged_fields);
            }
            Ok(())
        })?;
        buf.put_i32(self.throttle_time_ms);
        if flexible {
            let mut known = Vec::new();
            if version >= 10 && !self.node_endpoints.is_empty() {
                let mut b = BytesMut::new();
                put_array(
                    &mut b,
                    true,
                    &self.node_endpoints,
                    "node_endpoints",
                    |b, n| {
                        b.put_i32(n.node_id);
                        put_string(b, true, &n.host, "node_endpoints.host")?;
                        b.put_i32(n.port);
                        put_nullable_string(b, true, n.rack.as_deref(), "node_endpoints.rack")?;
                        put_tagged_fields(b, &[], &n.unknown_tagged_fields);
                        Ok(())
                    },
                )?;
                known.push((0, b.freeze()));
            }
            put_tagged_fields(buf, &known, &self.unknown_tagged_fields);
        }
        Ok(())
    }

    fn decode_body(r: &mut Reader, version: i16) -> DecodeResult<Self> {
        let flexible = version >= FIRST_FLEXIBLE_VERSION;
        let mut out = ProduceResponse {
            responses: r.array(flexible, 2, "responses", |r| {
                let mut t = TopicProduceResponse::default();
                if version >= FIRST_TOPIC_ID_VERSION {
                    t.topic_id = r.uuid("responses.topic_id")?;
                } else {
                    t.name = r.string(flexible, "responses.name")?;
                }
                t.partition_responses = r.array(flexible, 14, "partition_responses", |r| {
                    decode_partition_response(r, version)
                })?;
                if flexible {
                    t.unknown_tagged_fields =
                        r.unknown_tagged_fields("responses._tagged_fields")?;
                }
                Ok(t)
            })?,
            throttle_time_ms: r.i32("throttle_time_ms")?,
            ..Default::default()
        };
        if flexible {
            let mut endpoints = Vec::new();
            out.unknown_tagged_fields = r.tagged_fields("_tagged_fields", |tag, r| {
                if tag != 0 || version < 10 {
                    return Ok(false);
                }
                // Kept raw when empty, the default Kafka does not write.
                endpoints = r.array(true, 11, "node_endpoints", |r| {
                    Ok(NodeEndpoint {
                        node_id: r.i32("node_endpoints.node_id")?,
                        host: r.string(true, "node_endpoints.host")?,
                        port: r.i32("node_endpoints.port")?,
                        rack: r.nullable_string(true, "node_endpoints.rack")?,
                        unknown_tagged_fields: r
                            .unknown_tagged_fields("node_endpoints._tagged_fields")?,
                    })
                })?;
                Ok(!endpoints.is_empty())
            })?;
            out.node_endpoints = endpoints;
        }
        Ok(out)
    }
}

fn encode_partition_response(
    p: &PartitionProduceResponse,
    version: i16,
    b: &mut BytesMut,
) -> Result<(), EncodeError> {
    let flexible = version >= FIRST_FLEXIBLE_VERSION;
    b.put_i32(p.index);
    b.put_i16(p.error_code.code());
    b.put_i64(p.base_offset);
    b.put_i64(p.log_append_time_ms);
    if version >= 5 {
        b.put_i64(p.log_start_offset);
    }
    if version >= 8 {
        put_array(b, flexible, &p.record_errors, "record_errors", |b, e| {
            b.put_i32(e.batch_index);
            put_nullable_string(
                b,
                flexible,
                e.batch_index_error_message.as_deref(),
                "record_errors.batch_index_error_message",
            )?;
            if flexible {
                put_tagged_fields(b, &[], &e.unknown_tagged_fields);
            }
            Ok(())
        })?;
        put_nullable_string(b, flexible, p.error_message.as_deref(), "error_message")?;
    }
    if flexible {
        let mut known = Vec::new();
        let leader = &p.current_leader;
        if version >= 10 && *leader != LeaderIdAndEpoch::default() {
            let mut t = BytesMut::with_capacity(9);
            t.put_i32(leader.leader_id);
            t.put_i32(leader.leader_epoch);
            put_tagged_fields(&mut t, &[], &leader.unknown_tagged_fields);
            known.push((0, t.freeze()));
        }
        put_tagged_fields(b, &known, &p.unknown_tagged_fields);
    }
    Ok(())
}

fn decode_partition_response(
    r: &mut Reader,
    version: i16,
) -> DecodeResult<PartitionProduceResponse> {
    let flexible = version >= FIRST_FLEXIBLE_VERSION;
    let mut p = PartitionProduceResponse {
        index: r.i32("partition_responses.index")?,
        error_code: ErrorCode::from_code(r.i16("partition_responses.error_code")?),
        base_offset: r.i64("partition_responses.base_offset")?,
        log_append_time_ms: r.i64("partition_responses.log_append_time_ms")?,
        ..Default::default()
    };
    if version >= 5 {
        p.log_start_offset = r.i64("partition_responses.log_start_offset")?;
    }
    if version >= 8 {
        p.record_errors = r.array(flexible, 6, "record_errors", |r| {
            let mut e = BatchIndexAndErrorMessage {
                batch_index: r.i32("record_errors.batch_index")?,
                batch_index_error_message: r
                    .nullable_string(flexible, "record_errors.batch_index_error_message")?,
                ..Default::default()
            };
            if flexible {
                e.unknown_tagged_fields =
                    r.unknown_tagged_fields("record_errors._tagged_fields")?;
            }
            Ok(e)
        })?;
        p.error_message = r.nullable_string(flexible, "partition_responses.error_message")?;
    }
    if flexible {
        let mut leader = LeaderIdAndEpoch::default();
        p.unknown_tagged_fields =
            r.tagged_fields("partition_responses._tagged_fields", |tag, r| {
                if tag != 0 || version < 10 {
                    return Ok(false);
                }
                let decoded = LeaderIdAndEpoch {
                    leader_id: r.i32("current_leader.leader_id")?,
                    leader_epoch: r.i32("current_leader.leader_epoch")?,
                    unknown_tagged_fields: r
                        .unknown_tagged_fields("current_leader._tagged_fields")?,
                };
                // Kept raw when equal to the default, which Kafka does not write.
                if decoded == LeaderIdAndEpoch::default() {
                    return Ok(false);
                }
                leader = decoded;
                Ok(true)
            })?;
        p.current_leader = leader;
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{hex, parse_hex};

    fn body(frame_hex: &str, header_len: usize) -> Bytes {
        let frame = parse_hex(frame_hex).unwrap();
        Bytes::copy_from_slice(&frame[4 + header_len..])
    }

    #[test]
    fn v9_ok_response_matches_the_reference_bytes() {
        let wire = "00000030 00000003 00 02 0274 02 00000000 0000 000000000000002a \
                    ffffffffffffffff 0000000000000000 01 00 00 00 00000000 00";
        let resp = ProduceResponse::decode(body(wire, 5), 9).unwrap();
        let p = &resp.responses[0].partition_responses[0];
        assert_eq!(resp.responses[0].name, "t");
        assert_eq!(p.base_offset, 42);
        assert_eq!(p.error_code, ErrorCode::None);
        assert_eq!(p.log_start_offset, 0);
        let mut out = BytesMut::new();
        resp.encode(9, &mut out).unwrap();
        assert_eq!(hex(&out), hex(&body(wire, 5)));
    }

    #[test]
    fn v10_not_leader_response_names_the_current_leader_and_its_endpoint() {
        let wire = "00000052 00000005 00 02 0274 02 00000000 0006 ffffffffffffffff \
                    ffffffffffffffff ffffffffffffffff 01 00 01 00 09 00000002 00000007 00 \
                    00 00000000 01 00 15 02 00000002 0a 3132372e302e302e31 00007 1a4 00 00";
        let resp = ProduceResponse::decode(body(wire, 5), 10).unwrap();
        let p = &resp.responses[0].partition_responses[0];
        assert_eq!(p.error_code, ErrorCode::NotLeaderOrFollower);
        assert_eq!(
            (p.current_leader.leader_id, p.current_leader.leader_epoch),
            (2, 7)
        );
        assert_eq!(resp.node_endpoints[0].host, "127.0.0.1");
        assert_eq!(resp.node_endpoints[0].port, 29092);
        let mut out = BytesMut::new();
        resp.encode(10, &mut out).unwrap();
        assert_eq!(hex(&out), hex(&body(wire, 5)));
    }

    #[test]
    fn v3_ok_response_matches_the_reference_bytes() {
        let wire = "00000029 00000004 00000001 0001 74 00000001 00000000 0000 \
                    000000000000002a ffffffffffffffff 00000000";
        let resp = ProduceResponse::decode(body(wire, 4), 3).unwrap();
        assert_eq!(resp.responses[0].partition_responses[0].base_offset, 42);
    }
}
