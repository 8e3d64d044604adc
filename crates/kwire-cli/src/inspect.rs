//! `kwire metadata` and `kwire api-versions`: look at a cluster.

use std::process::ExitCode;

use kwire_codec::metadata::MetadataRequest;
use kwire_codec::ApiKey;
use kwire_connection::{Cluster, ClusterConfig, Connection, ConnectionConfig};
use serde_json::json;

use crate::Failure;

/// Prints brokers and topics (all of them, or those named).
pub async fn metadata(
    bootstrap: &[String],
    topics: &[String],
    as_json: bool,
) -> Result<ExitCode, Failure> {
    let cluster = Cluster::connect(bootstrap, ClusterConfig::default())
        .await
        .map_err(|e| Failure::fatal(e.to_string()))?;
    let request = if topics.is_empty() {
        MetadataRequest {
            allow_auto_topic_creation: false,
            ..Default::default()
        }
    } else {
        MetadataRequest::for_topics(topics, false)
    };
    let response = cluster
        .fetch(request)
        .await
        .map_err(|e| Failure::fatal(e.to_string()))?;
    let mut listed = response.topics.clone();
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    if as_json {
        let value = json!({
            "cluster_id": response.cluster_id,
            "controller_id": response.controller_id,
            "brokers": response.brokers.iter().map(|b| json!({
                "node_id": b.node_id, "host": b.host, "port": b.port, "rack": b.rack,
            })).collect::<Vec<_>>(),
            "topics": listed.iter().map(|t| json!({
                "name": t.name,
                "error": t.error_code.name(),
                "is_internal": t.is_internal,
                "partitions": t.partitions.iter().map(|p| json!({
                    "partition": p.partition_index,
                    "leader_id": p.leader_id,
                    "leader_epoch": p.leader_epoch,
                    "replica_nodes": p.replica_nodes,
                    "isr_nodes": p.isr_nodes,
                    "error": p.error_code.name(),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        out!("{value}")?;
    } else {
        out!(
            "cluster {}",
            response.cluster_id.as_deref().unwrap_or("(no id)")
        )?;
        for b in &response.brokers {
            out!("broker {} at {}:{}", b.node_id, b.host, b.port)?;
        }
        for t in &listed {
            let name = t.name.as_deref().unwrap_or("(unknown)");
            if t.error_code != kwire_codec::ErrorCode::None {
                out!("topic {name}: {}", t.error_code)?;
                continue;
            }
            out!("topic {name}: {} partitions", t.partitions.len())?;
            let mut parts = t.partitions.clone();
            parts.sort_by_key(|p| p.partition_index);
            for p in parts {
                out!(
                    "  partition {} leader {} epoch {} replicas {:?} isr {:?}",
                    p.partition_index,
                    p.leader_id,
                    p.leader_epoch,
                    p.replica_nodes,
                    p.isr_nodes
                )?;
            }
        }
    }
    let missing: Vec<String> = listed
        .iter()
        .filter(|t| t.error_code != kwire_codec::ErrorCode::None)
        .map(|t| format!("{} ({})", t.name.as_deref().unwrap_or("?"), t.error_code))
        .collect();
    if !missing.is_empty() {
        eprintln!("kwire: no metadata for topic {}", missing.join(", "));
    }
    let missing = !missing.is_empty();
    Ok(if missing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints the API versions a broker serves, and what kwire picks for the APIs it speaks.
pub async fn api_versions(addr: &str, as_json: bool) -> Result<ExitCode, Failure> {
    let conn = Connection::connect(addr, ConnectionConfig::default())
        .await
        .map_err(|e| Failure::fatal(e.to_string()))?;
    let response = conn
        .negotiate()
        .await
        .map_err(|e| Failure::fatal(e.to_string()))?;
    let chosen: Vec<_> = ApiKey::ALL
        .iter()
        .map(|k| (k.name(), conn.version(*k).ok()))
        .collect();
    if as_json {
        let value = json!({
            "broker": addr,
            "api_keys": response.api_keys.iter().map(|k| json!({
                "api_key": k.api_key, "min_version": k.min_version, "max_version": k.max_version,
            })).collect::<Vec<_>>(),
            "kwire_uses": chosen.iter().map(|(name, v)| json!({"api": name, "version": v})).collect::<Vec<_>>(),
        });
        out!("{value}")?;
    } else {
        out!("broker {addr} serves {} APIs", response.api_keys.len())?;
        for (name, v) in &chosen {
            match v {
                Some(v) => out!("  {name}: kwire uses v{v}")?,
                None => out!("  {name}: no version in common")?,
            }
        }
        for k in &response.api_keys {
            out!(
                "  api {:>3}: v{}..=v{}",
                k.api_key,
                k.min_version,
                k.max_version
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
