//! Strategies for the bodies of ApiVersions, Metadata and Produce, per version.

use bytes::{Bytes, BytesMut};
use kwire_codec::api_versions::{
    ApiVersion, ApiVersionsRequest, ApiVersionsResponse, FinalizedFeatureKey, SupportedFeatureKey,
};
use kwire_codec::metadata::{
    MetadataRequest, MetadataRequestTopic, MetadataResponse, MetadataResponseBroker,
    MetadataResponsePartition, MetadataResponseTopic, AUTHORIZED_OPERATIONS_OMITTED,
};
use kwire_codec::produce::{
    BatchIndexAndErrorMessage, LeaderIdAndEpoch, NodeEndpoint, PartitionProduceData,
    PartitionProduceResponse, ProduceRequest, ProduceResponse, TopicProduceData,
    TopicProduceResponse,
};
use kwire_codec::ErrorCode;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::records::record_batch;
use super::{bytes, error_code, text, unknown_tags, uuid, Flavor};

/// An ApiVersionsRequest of version `v` (0–5).
pub fn api_versions_request(v: i16, flavor: Flavor) -> BoxedStrategy<ApiVersionsRequest> {
    if v < 3 {
        return Just(ApiVersionsRequest::default()).boxed();
    }
    (
        text(),
        text(),
        option::of(text()),
        any::<i32>(),
        unknown_tags(true, &[], flavor),
    )
        .prop_map(
            move |(name, software_version, cluster_id, node_id, tags)| ApiVersionsRequest {
                client_software_name: name,
                client_software_version: software_version,
                cluster_id: if v >= 5 { cluster_id } else { None },
                node_id: if v >= 5 { node_id } else { -1 },
                unknown_tagged_fields: tags,
            },
        )
        .boxed()
}

/// An ApiVersionsResponse of version `v` (0–5), with the tagged feature fields (tags 0–3)
/// at their defaults or set, from v3.
pub fn api_versions_response(v: i16, flavor: Flavor) -> BoxedStrategy<ApiVersionsResponse> {
    let flexible = v >= 3;
    let api_key = (
        any::<i16>(),
        any::<i16>(),
        any::<i16>(),
        unknown_tags(flexible, &[], flavor),
    )
        .prop_map(|(api_key, min_version, max_version, tags)| ApiVersion {
            api_key,
            min_version,
            max_version,
            unknown_tagged_fields: tags,
        });
    let supported = (
        text(),
        any::<i16>(),
        any::<i16>(),
        unknown_tags(true, &[], flavor),
    )
        .prop_map(
            |(name, min_version, max_version, tags)| SupportedFeatureKey {
                name,
                min_version,
                max_version,
                unknown_tagged_fields: tags,
            },
        );
    let finalized = (
        text(),
        any::<i16>(),
        any::<i16>(),
        unknown_tags(true, &[], flavor),
    )
        .prop_map(|(name, max_level, min_level, tags)| FinalizedFeatureKey {
            name,
            max_version_level: max_level,
            min_version_level: min_level,
            unknown_tagged_fields: tags,
        });
    (
        error_code(),
        vec(api_key, 0..4),
        any::<i32>(),
        vec(supported, 0..3),
        prop_oneof![Just(-1i64), any::<i64>()],
        vec(finalized, 0..3),
        any::<bool>(),
        unknown_tags(flexible, &[0, 1, 2, 3], flavor),
    )
        .prop_map(
            move |(error_code, api_keys, throttle, supported, epoch, finalized, zk, tags)| {
                ApiVersionsResponse {
                    error_code,
                    api_keys,
                    throttle_time_ms: if v >= 1 { throttle } else { 0 },
                    supported_features: if flexible { supported } else { Vec::new() },
                    finalized_features_epoch: if flexible { epoch } else { -1 },
                    finalized_features: if flexible { finalized } else { Vec::new() },
                    zk_migration_ready: flexible && zk,
                    unknown_tagged_fields: tags,
                }
            },
        )
        .boxed()
}

// ---------------------------------------------------------------------------------------
// Metadata

/// A MetadataRequest of version `v` (0–13).
pub fn metadata_request(v: i16, flavor: Flavor) -> BoxedStrategy<MetadataRequest> {
    let flexible = v >= 9;
    let topic = (
        uuid(),
        option::of(text()),
        text(),
        unknown_tags(flexible, &[], flavor),
    )
        .prop_map(
            move |(topic_id, name, plain_name, tags)| MetadataRequestTopic {
                topic_id: if v >= 10 { topic_id } else { [0; 16] },
                name: if v >= 10 { name } else { Some(plain_name) },
                unknown_tagged_fields: tags,
            },
        );
    // At v0 the array is not nullable and an empty one means "all topics", decoded as None.
    let min_topics = if v == 0 { 1 } else { 0 };
    (
        option::of(vec(topic, min_topics..4)),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        unknown_tags(flexible, &[], flavor),
    )
        .prop_map(
            move |(topics, auto_create, cluster_ops, topic_ops, tags)| MetadataRequest {
                topics,
                allow_auto_topic_creation: if v >= 4 { auto_create } else { true },
                include_cluster_authorized_operations: (8..=10).contains(&v) && cluster_ops,
                include_topic_authorized_operations: v >= 8 && topic_ops,
                unknown_tagged_fields: tags,
            },
        )
        .boxed()
}

fn broker_ids() -> BoxedStrategy<Vec<i32>> {
    vec(any::<i32>(), 0..4).boxed()
}

/// A MetadataResponse of version `v` (0–13).
pub fn metadata_response(v: i16, flavor: Flavor) -> BoxedStrategy<MetadataResponse> {
    let flexible = v >= 9;
    let broker = (
        any::<i32>(),
        text(),
        any::<i32>(),
        option::of(text()),
        unknown_tags(flexible, &[], flavor),
    )
        .prop_map(
            move |(node_id, host, port, rack, tags)| MetadataResponseBroker {
                node_id,
                host,
                port,
                rack: if v >= 1 { rack } else { None },
                unknown_tagged_fields: tags,
            },
        );
    let partition = (
        error_code(),
        any::<i32>(),
        any::<i32>(),
        any::<i32>(),
        broker_ids(),
        broker_ids(),
        broker_ids(),
        unknown_tags(flexible, &[], flavor),
    )
        .prop_map(
            move |(error_code, index, leader, epoch, replicas, isr, offline, tags)| {
                MetadataResponsePartition {
                    error_code,
                    partition_index: index,
                    leader_id: leader,
                    leader_epoch: if v >= 7 { epoch } else { -1 },
                    replica_nodes: replicas,
                    isr_nodes: isr,
                    offline_replicas: if v >= 5 { offline } else { Vec::new() },
                    unknown_tagged_fields: tags,
                }
            },
        );
    let topic = (
        error_code(),
        option::of(text()),
        text(),
        uuid(),
        any::<bool>(),
        vec(partition, 0..3),
        any::<i32>(),
        unknown_tags(flexible, &[], flavor),
    )
        .prop_map(
            move |(error_code, name, plain_name, topic_id, internal, partitions, ops, tags)| {
                MetadataResponseTopic {
                    error_code,
                    name: if v >= 12 { name } else { Some(plain_name) },
                    topic_id: if v >= 10 { topic_id } else { [0; 16] },
                    is_internal: v >= 1 && internal,
                    partitions,
                    topic_authorized_operations: if v >= 8 {
                        ops
                    } else {
                        AUTHORIZED_OPERATIONS_OMITTED
                    },
                    unknown_tagged_fields: tags,
                }
            },
        );
    (
        any::<i32>(),
        vec(broker, 0..3),
        option::of(text()),
        any::<i32>(),
        vec(topic, 0..3),
        any::<i32>(),
        error_code(),
        unknown_tags(flexible, &[], flavor),
    )
        .prop_map(
            move |(throttle, brokers, cluster_id, controller, topics, ops, error, tags)| {
                MetadataResponse {
                    throttle_time_ms: if v >= 3 { throttle } else { 0 },
                    brokers,
                    cluster_id: if v >= 2 { cluster_id } else { None },
                    controller_id: if v >= 1 { controller } else { -1 },
                    topics,
                    cluster_authorized_operations: if (8..=10).contains(&v) {
                        ops
                    } else {
                        AUTHORIZED_OPERATIONS_OMITTED
                    },
                    error_code: if v >= 13 { error } else { ErrorCode::None },
                    unknown_tagged_fields: tags,
                }
            },
        )
        .boxed()
}

// ---------------------------------------------------------------------------------------
// Produce

/// The records field of a partition: null, arbitrary bytes, or a real encoded batch.
fn records_field() -> BoxedStrategy<Option<Bytes>> {
    prop_oneof![
        Just(None),
        bytes(12).prop_map(Some),
        record_batch().prop_map(|batch| {
            let mut buf = BytesMut::new();
            batch.encode(&mut buf).expect("a generated batch encodes");
            Some(buf.freeze())
        }),
    ]
    .boxed()
}

/// A ProduceRequest of version `v` (3–13).
pub fn produce_request(v: i16, flavor: Flavor) -> BoxedStrategy<ProduceRequest> {
    let flexible = v >= 9;
    let partition = (
        any::<i32>(),
        records_field(),
        unknown_tags(flexible, &[], flavor),
    )
        .prop_map(|(index, records, tags)| PartitionProduceData {
            index,
            records,
            unknown_tagged_fields: tags,
        });
    let topic = (
        text(),
        uuid(),
        vec(partition, 0..3),
        unknown_tags(flexible, &[], flavor),
    )
        .prop_map(
            move |(name, topic_id, partition_data, tags)| TopicProduceData {
                name: if v < 13 { name } else { String::new() },
                topic_id: if v >= 13 { topic_id } else { [0; 16] },
                partition_data,
                unknown_tagged_fields: tags,
            },
        );
    (
        option::of(text()),
        prop_oneof![Just(-1i16), Just(0), Just(1), any::<i16>()],
        any::<i32>(),
        vec(topic, 0..3),
        unknown_tags(flexible, &[], flavor),
    )
        .prop_map(
            |(transactional_id, acks, timeout_ms, topic_data, tags)| ProduceRequest {
                transactional_id,
                acks,
                timeout_ms,
                topic_data,
                unknown_tagged_fields: tags,
            },
        )
        .boxed()
}

/// The tags a ProduceResponse partition or body must not use as unknown fields at `v`.
fn produce_response_known_tags(v: i16, flavor: Flavor) -> &'static [u32] {
    if v >= 10 || (v == 9 && flavor == Flavor::Oracle) {
        &[0]
    } else {
        &[]
    }
}

/// A ProduceResponse of version `v` (3–13), with CurrentLeader and NodeEndpoints (tag 0 of
/// a partition and of the body) at their defaults or set, from v10.
pub fn produce_response(v: i16, flavor: Flavor) -> BoxedStrategy<ProduceResponse> {
    let flexible = v >= 9;
    let known = produce_response_known_tags(v, flavor);
    let record_error = (
        any::<i32>(),
        option::of(text()),
        unknown_tags(flexible, &[], flavor),
    )
        .prop_map(|(batch_index, message, tags)| BatchIndexAndErrorMessage {
            batch_index,
            batch_index_error_message: message,
            unknown_tagged_fields: tags,
        });
    let leader = prop_oneof![
        Just(LeaderIdAndEpoch::default()),
        (any::<i32>(), any::<i32>(), unknown_tags(true, &[], flavor)).prop_map(
            |(leader_id, leader_epoch, tags)| LeaderIdAndEpoch {
                leader_id,
                leader_epoch,
                unknown_tagged_fields: tags,
            }
        ),
    ];
    let partition = (
        (any::<i32>(), error_code(), any::<i64>(), any::<i64>()),
        any::<i64>(),
        vec(record_error, 0..3),
        option::of(text()),
        leader,
        unknown_tags(flexible, known, flavor),
    )
        .prop_map(
            move |(
                (index, error_code, base_offset, append_time),
                start,
                errors,
                message,
                leader,
                tags,
            )| {
                PartitionProduceResponse {
                    index,
                    error_code,
                    base_offset,
                    log_append_time_ms: append_time,
                    log_start_offset: if v >= 5 { start } else { -1 },
                    record_errors: if v >= 8 { errors } else { Vec::new() },
                    error_message: if v >= 8 { message } else { None },
                    current_leader: if v >= 10 {
                        leader
                    } else {
                        LeaderIdAndEpoch::default()
                    },
                    unknown_tagged_fields: tags,
                }
            },
        );
    let topic = (
        text(),
        uuid(),
        vec(partition, 0..3),
        unknown_tags(flexible, &[], flavor),
    )
        .prop_map(
            move |(name, topic_id, partition_responses, tags)| TopicProduceResponse {
                name: if v < 13 { name } else { String::new() },
                topic_id: if v >= 13 { topic_id } else { [0; 16] },
                partition_responses,
                unknown_tagged_fields: tags,
            },
        );
    let endpoint = (
        any::<i32>(),
        text(),
        any::<i32>(),
        option::of(text()),
        unknown_tags(true, &[], flavor),
    )
        .prop_map(|(node_id, host, port, rack, tags)| NodeEndpoint {
            node_id,
            host,
            port,
            rack,
            unknown_tagged_fields: tags,
        });
    (
        vec(topic, 0..3),
        any::<i32>(),
        vec(endpoint, 0..3),
        unknown_tags(flexible, known, flavor),
    )
        .prop_map(
            move |(responses, throttle_time_ms, endpoints, tags)| ProduceResponse {
                responses,
                throttle_time_ms,
                node_endpoints: if v >= 10 { endpoints } else { Vec::new() },
                unknown_tagged_fields: tags,
            },
        )
        .boxed()
}
