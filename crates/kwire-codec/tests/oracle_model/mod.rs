//! Conversions between kwire's messages and kafka-protocol's, for the differential tests.
//!
//! They are plain field copies; what the tests check is that the two codecs put those fields
//! on the wire the same way. The `_to` functions take the version for symmetry with the
//! `_from` ones, which need it where the models differ (Metadata v0 "all topics").

use std::collections::BTreeMap;

use bytes::Bytes;
use kafka_protocol::messages as kp;
use kafka_protocol::messages::{BrokerId, TopicName, TransactionalId};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{Record as KpRecord, TimestampType};
use kwire_codec::api_versions::{
    ApiVersion, ApiVersionsRequest, ApiVersionsResponse, FinalizedFeatureKey, SupportedFeatureKey,
};
use kwire_codec::metadata::{
    MetadataRequest, MetadataRequestTopic, MetadataResponse, MetadataResponseBroker,
    MetadataResponsePartition, MetadataResponseTopic,
};
use kwire_codec::produce::{
    BatchIndexAndErrorMessage, LeaderIdAndEpoch, NodeEndpoint, PartitionProduceData,
    PartitionProduceResponse, ProduceRequest, ProduceResponse, TopicProduceData,
    TopicProduceResponse,
};
use kwire_codec::record::{RecordBatch, RecordHeader};
use kwire_codec::{ErrorCode, RawTaggedField, RequestHeader, ResponseHeader, Uuid};

pub fn tags_to(fields: &[RawTaggedField]) -> BTreeMap<i32, Bytes> {
    fields
        .iter()
        .map(|f| (f.tag as i32, f.data.clone()))
        .collect()
}

pub fn tags_from(fields: &BTreeMap<i32, Bytes>) -> Vec<RawTaggedField> {
    fields
        .iter()
        .map(|(tag, data)| RawTaggedField {
            tag: *tag as u32,
            data: data.clone(),
        })
        .collect()
}

pub fn str_to(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_owned())
}

pub fn opt_str_to(s: &Option<String>) -> Option<StrBytes> {
    s.as_deref().map(str_to)
}

pub fn opt_str_from(s: &Option<StrBytes>) -> Option<String> {
    s.as_ref().map(|s| s.to_string())
}

pub fn uuid_to(id: &Uuid) -> uuid::Uuid {
    uuid::Uuid::from_bytes(*id)
}

pub fn uuid_from(id: &uuid::Uuid) -> Uuid {
    *id.as_bytes()
}

pub fn ids_to(ids: &[i32]) -> Vec<BrokerId> {
    ids.iter().map(|id| BrokerId(*id)).collect()
}

pub fn ids_from(ids: &[BrokerId]) -> Vec<i32> {
    ids.iter().map(|id| id.0).collect()
}

pub fn request_header_to(h: &RequestHeader) -> kp::RequestHeader {
    let mut o = kp::RequestHeader::default();
    o.request_api_key = h.request_api_key;
    o.request_api_version = h.request_api_version;
    o.correlation_id = h.correlation_id;
    o.client_id = opt_str_to(&h.client_id);
    o.unknown_tagged_fields = tags_to(&h.unknown_tagged_fields);
    o
}

pub fn request_header_from(o: &kp::RequestHeader) -> RequestHeader {
    RequestHeader {
        request_api_key: o.request_api_key,
        request_api_version: o.request_api_version,
        correlation_id: o.correlation_id,
        client_id: opt_str_from(&o.client_id),
        unknown_tagged_fields: tags_from(&o.unknown_tagged_fields),
    }
}

pub fn response_header_to(h: &ResponseHeader) -> kp::ResponseHeader {
    let mut o = kp::ResponseHeader::default();
    o.correlation_id = h.correlation_id;
    o.unknown_tagged_fields = tags_to(&h.unknown_tagged_fields);
    o
}

pub fn response_header_from(o: &kp::ResponseHeader) -> ResponseHeader {
    ResponseHeader {
        correlation_id: o.correlation_id,
        unknown_tagged_fields: tags_from(&o.unknown_tagged_fields),
    }
}

pub fn api_versions_request_to(m: &ApiVersionsRequest, _v: i16) -> kp::ApiVersionsRequest {
    let mut o = kp::ApiVersionsRequest::default();
    o.client_software_name = str_to(&m.client_software_name);
    o.client_software_version = str_to(&m.client_software_version);
    o.unknown_tagged_fields = tags_to(&m.unknown_tagged_fields);
    o
}

pub fn api_versions_request_from(o: &kp::ApiVersionsRequest, _v: i16) -> ApiVersionsRequest {
    ApiVersionsRequest {
        client_software_name: o.client_software_name.to_string(),
        client_software_version: o.client_software_version.to_string(),
        unknown_tagged_fields: tags_from(&o.unknown_tagged_fields),
        ..Default::default()
    }
}

pub fn api_versions_response_to(m: &ApiVersionsResponse, _v: i16) -> kp::ApiVersionsResponse {
    use kp::api_versions_response as r;
    let mut o = kp::ApiVersionsResponse::default();
    o.error_code = m.error_code.code();
    o.api_keys = m
        .api_keys
        .iter()
        .map(|k| {
            let mut x = r::ApiVersion::default();
            x.api_key = k.api_key;
            x.min_version = k.min_version;
            x.max_version = k.max_version;
            x.unknown_tagged_fields = tags_to(&k.unknown_tagged_fields);
            x
        })
        .collect();
    o.throttle_time_ms = m.throttle_time_ms;
    o.supported_features = m
        .supported_features
        .iter()
        .map(|f| {
            let mut x = r::SupportedFeatureKey::default();
            x.name = str_to(&f.name);
            x.min_version = f.min_version;
            x.max_version = f.max_version;
            x.unknown_tagged_fields = tags_to(&f.unknown_tagged_fields);
            x
        })
        .collect();
    o.finalized_features_epoch = m.finalized_features_epoch;
    o.finalized_features = m
        .finalized_features
        .iter()
        .map(|f| {
            let mut x = r::FinalizedFeatureKey::default();
            x.name = str_to(&f.name);
            x.max_version_level = f.max_version_level;
            x.min_version_level = f.min_version_level;
            x.unknown_tagged_fields = tags_to(&f.unknown_tagged_fields);
            x
        })
        .collect();
    o.zk_migration_ready = m.zk_migration_ready;
    o.unknown_tagged_fields = tags_to(&m.unknown_tagged_fields);
    o
}

pub fn api_versions_response_from(o: &kp::ApiVersionsResponse, _v: i16) -> ApiVersionsResponse {
    ApiVersionsResponse {
        error_code: ErrorCode::from_code(o.error_code),
        api_keys: o
            .api_keys
            .iter()
            .map(|k| ApiVersion {
                api_key: k.api_key,
                min_version: k.min_version,
                max_version: k.max_version,
                unknown_tagged_fields: tags_from(&k.unknown_tagged_fields),
            })
            .collect(),
        throttle_time_ms: o.throttle_time_ms,
        supported_features: o
            .supported_features
            .iter()
            .map(|f| SupportedFeatureKey {
                name: f.name.to_string(),
                min_version: f.min_version,
                max_version: f.max_version,
                unknown_tagged_fields: tags_from(&f.unknown_tagged_fields),
            })
            .collect(),
        finalized_features_epoch: o.finalized_features_epoch,
        finalized_features: o
            .finalized_features
            .iter()
            .map(|f| FinalizedFeatureKey {
                name: f.name.to_string(),
                max_version_level: f.max_version_level,
                min_version_level: f.min_version_level,
                unknown_tagged_fields: tags_from(&f.unknown_tagged_fields),
            })
            .collect(),
        zk_migration_ready: o.zk_migration_ready,
        unknown_tagged_fields: tags_from(&o.unknown_tagged_fields),
    }
}

pub fn metadata_request_to(m: &MetadataRequest, v: i16) -> kp::MetadataRequest {
    let topic = |t: &MetadataRequestTopic| {
        let mut x = kp::metadata_request::MetadataRequestTopic::default();
        x.topic_id = uuid_to(&t.topic_id);
        x.name = t.name.as_deref().map(|n| TopicName(str_to(n)));
        x.unknown_tagged_fields = tags_to(&t.unknown_tagged_fields);
        x
    };
    let mut o = kp::MetadataRequest::default();
    o.topics = match &m.topics {
        // v0 has no null array: "all topics" is an empty one (see the quirk test below).
        None if v == 0 => Some(Vec::new()),
        None => None,
        Some(topics) => Some(topics.iter().map(topic).collect()),
    };
    o.allow_auto_topic_creation = m.allow_auto_topic_creation;
    o.include_cluster_authorized_operations = m.include_cluster_authorized_operations;
    o.include_topic_authorized_operations = m.include_topic_authorized_operations;
    o.unknown_tagged_fields = tags_to(&m.unknown_tagged_fields);
    o
}

pub fn metadata_request_from(o: &kp::MetadataRequest, v: i16) -> MetadataRequest {
    let topic = |t: &kp::metadata_request::MetadataRequestTopic| MetadataRequestTopic {
        topic_id: uuid_from(&t.topic_id),
        name: t.name.as_ref().map(|n| n.0.to_string()),
        unknown_tagged_fields: tags_from(&t.unknown_tagged_fields),
    };
    MetadataRequest {
        topics: match &o.topics {
            Some(topics) if v == 0 && topics.is_empty() => None,
            Some(topics) => Some(topics.iter().map(topic).collect()),
            None => None,
        },
        allow_auto_topic_creation: o.allow_auto_topic_creation,
        include_cluster_authorized_operations: o.include_cluster_authorized_operations,
        include_topic_authorized_operations: o.include_topic_authorized_operations,
        unknown_tagged_fields: tags_from(&o.unknown_tagged_fields),
    }
}

pub fn metadata_response_to(m: &MetadataResponse, _v: i16) -> kp::MetadataResponse {
    use kp::metadata_response as r;
    let broker = |b: &MetadataResponseBroker| {
        let mut x = r::MetadataResponseBroker::default();
        x.node_id = BrokerId(b.node_id);
        x.host = str_to(&b.host);
        x.port = b.port;
        x.rack = opt_str_to(&b.rack);
        x.unknown_tagged_fields = tags_to(&b.unknown_tagged_fields);
        x
    };
    let partition = |p: &MetadataResponsePartition| {
        let mut x = r::MetadataResponsePartition::default();
        x.error_code = p.error_code.code();
        x.partition_index = p.partition_index;
        x.leader_id = BrokerId(p.leader_id);
        x.leader_epoch = p.leader_epoch;
        x.replica_nodes = ids_to(&p.replica_nodes);
        x.isr_nodes = ids_to(&p.isr_nodes);
        x.offline_replicas = ids_to(&p.offline_replicas);
        x.unknown_tagged_fields = tags_to(&p.unknown_tagged_fields);
        x
    };
    let topic = |t: &MetadataResponseTopic| {
        let mut x = r::MetadataResponseTopic::default();
        x.error_code = t.error_code.code();
        x.name = t.name.as_deref().map(|n| TopicName(str_to(n)));
        x.topic_id = uuid_to(&t.topic_id);
        x.is_internal = t.is_internal;
        x.partitions = t.partitions.iter().map(partition).collect();
        x.topic_authorized_operations = t.topic_authorized_operations;
        x.unknown_tagged_fields = tags_to(&t.unknown_tagged_fields);
        x
    };
    let mut o = kp::MetadataResponse::default();
    o.throttle_time_ms = m.throttle_time_ms;
    o.brokers = m.brokers.iter().map(broker).collect();
    o.cluster_id = opt_str_to(&m.cluster_id);
    o.controller_id = BrokerId(m.controller_id);
    o.topics = m.topics.iter().map(topic).collect();
    o.cluster_authorized_operations = m.cluster_authorized_operations;
    o.error_code = m.error_code.code();
    o.unknown_tagged_fields = tags_to(&m.unknown_tagged_fields);
    o
}

pub fn metadata_response_from(o: &kp::MetadataResponse, _v: i16) -> MetadataResponse {
    MetadataResponse {
        throttle_time_ms: o.throttle_time_ms,
        brokers: o
            .brokers
            .iter()
            .map(|b| MetadataResponseBroker {
                node_id: b.node_id.0,
                host: b.host.to_string(),
                port: b.port,
                rack: opt_str_from(&b.rack),
                unknown_tagged_fields: tags_from(&b.unknown_tagged_fields),
            })
            .collect(),
        cluster_id: opt_str_from(&o.cluster_id),
        controller_id: o.controller_id.0,
        topics: o
            .topics
            .iter()
            .map(|t| MetadataResponseTopic {
                error_code: ErrorCode::from_code(t.error_code),
                name: t.name.as_ref().map(|n| n.0.to_string()),
                topic_id: uuid_from(&t.topic_id),
                is_internal: t.is_internal,
                partitions: t
                    .partitions
                    .iter()
                    .map(|p| MetadataResponsePartition {
                        error_code: ErrorCode::from_code(p.error_code),
                        partition_index: p.partition_index,
                        leader_id: p.leader_id.0,
                        leader_epoch: p.leader_epoch,
                        replica_nodes: ids_from(&p.replica_nodes),
                        isr_nodes: ids_from(&p.isr_nodes),
                        offline_replicas: ids_from(&p.offline_replicas),
                        unknown_tagged_fields: tags_from(&p.unknown_tagged_fields),
                    })
                    .collect(),
                topic_authorized_operations: t.topic_authorized_operations,
                unknown_tagged_fields: tags_from(&t.unknown_tagged_fields),
            })
            .collect(),
        cluster_authorized_operations: o.cluster_authorized_operations,
        error_code: ErrorCode::from_code(o.error_code),
        unknown_tagged_fields: tags_from(&o.unknown_tagged_fields),
    }
}

pub fn produce_request_to(m: &ProduceRequest, _v: i16) -> kp::ProduceRequest {
    use kp::produce_request as r;
    let partition = |p: &PartitionProduceData| {
        let mut x = r::PartitionProduceData::default();
        x.index = p.index;
        x.records = p.records.clone();
        x.unknown_tagged_fields = tags_to(&p.unknown_tagged_fields);
        x
    };
    let topic = |t: &TopicProduceData| {
        let mut x = r::TopicProduceData::default();
        x.name = TopicName(str_to(&t.name));
        x.topic_id = uuid_to(&t.topic_id);
        x.partition_data = t.partition_data.iter().map(partition).collect();
        x.unknown_tagged_fields = tags_to(&t.unknown_tagged_fields);
        x
    };
    let mut o = kp::ProduceRequest::default();
    o.transactional_id = m
        .transactional_id
        .as_deref()
        .map(|id| TransactionalId(str_to(id)));
    o.acks = m.acks;
    o.timeout_ms = m.timeout_ms;
    o.topic_data = m.topic_data.iter().map(topic).collect();
    o.unknown_tagged_fields = tags_to(&m.unknown_tagged_fields);
    o
}

pub fn produce_request_from(o: &kp::ProduceRequest, _v: i16) -> ProduceRequest {
    ProduceRequest {
        transactional_id: o.transactional_id.as_ref().map(|id| id.0.to_string()),
        acks: o.acks,
        timeout_ms: o.timeout_ms,
        topic_data: o
            .topic_data
            .iter()
            .map(|t| TopicProduceData {
                name: t.name.0.to_string(),
                topic_id: uuid_from(&t.topic_id),
                partition_data: t
                    .partition_data
                    .iter()
                    .map(|p| PartitionProduceData {
                        index: p.index,
                        records: p.records.clone(),
                        unknown_tagged_fields: tags_from(&p.unknown_tagged_fields),
                    })
                    .collect(),
                unknown_tagged_fields: tags_from(&t.unknown_tagged_fields),
            })
            .collect(),
        unknown_tagged_fields: tags_from(&o.unknown_tagged_fields),
    }
}

pub fn produce_response_to(m: &ProduceResponse, _v: i16) -> kp::ProduceResponse {
    use kp::produce_response as r;
    let record_error = |e: &BatchIndexAndErrorMessage| {
        let mut x = r::BatchIndexAndErrorMessage::default();
        x.batch_index = e.batch_index;
        x.batch_index_error_message = opt_str_to(&e.batch_index_error_message);
        x.unknown_tagged_fields = tags_to(&e.unknown_tagged_fields);
        x
    };
    let partition = |p: &PartitionProduceResponse| {
        let mut leader = r::LeaderIdAndEpoch::default();
        leader.leader_id = BrokerId(p.current_leader.leader_id);
        leader.leader_epoch = p.current_leader.leader_epoch;
        leader.unknown_tagged_fields = tags_to(&p.current_leader.unknown_tagged_fields);
        let mut x = r::PartitionProduceResponse::default();
        x.index = p.index;
        x.error_code = p.error_code.code();
        x.base_offset = p.base_offset;
        x.log_append_time_ms = p.log_append_time_ms;
        x.log_start_offset = p.log_start_offset;
        x.record_errors = p.record_errors.iter().map(record_error).collect();
        x.error_message = opt_str_to(&p.error_message);
        x.current_leader = leader;
        x.unknown_tagged_fields = tags_to(&p.unknown_tagged_fields);
        x
    };
    let topic = |t: &TopicProduceResponse| {
        let mut x = r::TopicProduceResponse::default();
        x.name = TopicName(str_to(&t.name));
        x.topic_id = uuid_to(&t.topic_id);
        x.partition_responses = t.partition_responses.iter().map(partition).collect();
        x.unknown_tagged_fields = tags_to(&t.unknown_tagged_fields);
        x
    };
    let endpoint = |n: &NodeEndpoint| {
        let mut x = r::NodeEndpoint::default();
        x.node_id = BrokerId(n.node_id);
        x.host = str_to(&n.host);
        x.port = n.port;
        x.rack = opt_str_to(&n.rack);
        x.unknown_tagged_fields = tags_to(&n.unknown_tagged_fields);
        x
    };
    let mut o = kp::ProduceResponse::default();
    o.responses = m.responses.iter().map(topic).collect();
    o.throttle_time_ms = m.throttle_time_ms;
    o.node_endpoints = m.node_endpoints.iter().map(endpoint).collect();
    o.unknown_tagged_fields = tags_to(&m.unknown_tagged_fields);
    o
}

pub fn produce_response_from(o: &kp::ProduceResponse, _v: i16) -> ProduceResponse {
    let partition = |p: &kp::produce_response::PartitionProduceResponse| PartitionProduceResponse {
        index: p.index,
        error_code: ErrorCode::from_code(p.error_code),
        base_offset: p.base_offset,
        log_append_time_ms: p.log_append_time_ms,
        log_start_offset: p.log_start_offset,
        record_errors: p
            .record_errors
            .iter()
            .map(|e| BatchIndexAndErrorMessage {
                batch_index: e.batch_index,
                batch_index_error_message: opt_str_from(&e.batch_index_error_message),
                unknown_tagged_fields: tags_from(&e.unknown_tagged_fields),
            })
            .collect(),
        error_message: opt_str_from(&p.error_message),
        current_leader: LeaderIdAndEpoch {
            leader_id: p.current_leader.leader_id.0,
            leader_epoch: p.current_leader.leader_epoch,
            unknown_tagged_fields: tags_from(&p.current_leader.unknown_tagged_fields),
        },
        unknown_tagged_fields: tags_from(&p.unknown_tagged_fields),
    };
    ProduceResponse {
        responses: o
            .responses
            .iter()
            .map(|t| TopicProduceResponse {
                name: t.name.0.to_string(),
                topic_id: uuid_from(&t.topic_id),
                partition_responses: t.partition_responses.iter().map(partition).collect(),
                unknown_tagged_fields: tags_from(&t.unknown_tagged_fields),
            })
            .collect(),
        throttle_time_ms: o.throttle_time_ms,
        node_endpoints: o
            .node_endpoints
            .iter()
            .map(|n| NodeEndpoint {
                node_id: n.node_id.0,
                host: n.host.to_string(),
                port: n.port,
                rack: opt_str_from(&n.rack),
                unknown_tagged_fields: tags_from(&n.unknown_tagged_fields),
            })
            .collect(),
        unknown_tagged_fields: tags_from(&o.unknown_tagged_fields),
    }
}

// ---------------------------------------------------------------------------------------
// Record batches

pub fn flag(attributes: i16, bit: u8) -> bool {
    attributes & (1 << bit) != 0
}

/// The batch as kafka-protocol models it: one flat record per kwire record, carrying the
/// batch fields.
pub fn records_to(batch: &RecordBatch) -> Vec<KpRecord> {
    batch
        .records
        .iter()
        .map(|r| KpRecord {
            transactional: flag(batch.attributes, 4),
            control: flag(batch.attributes, 5),
            delete_horizon: flag(batch.attributes, 6),
            partition_leader_epoch: batch.partition_leader_epoch,
            producer_id: batch.producer_id,
            producer_epoch: batch.producer_epoch,
            timestamp_type: if flag(batch.attributes, 3) {
                TimestampType::LogAppend
            } else {
                TimestampType::Creation
            },
            offset: batch.base_offset + i64::from(r.offset_delta),
            sequence: batch.base_sequence.wrapping_add(r.offset_delta),
            timestamp: batch.base_timestamp + r.timestamp_delta,
            key: r.key.clone(),
            value: r.value.clone(),
            headers: r
                .headers
                .iter()
                .map(|h| (str_to(&h.key), h.value.clone()))
                .collect(),
        })
        .collect()
}

pub fn headers_from(record: &KpRecord) -> Vec<RecordHeader> {
    record
        .headers
        .iter()
        .map(|(key, value)| RecordHeader {
            key: key.to_string(),
            value: value.clone(),
        })
        .collect()
}
