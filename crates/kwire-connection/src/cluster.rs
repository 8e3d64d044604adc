//! The cluster as a client sees it: bootstrap addresses, one connection per broker, and a
//! cache of topic metadata (partitions and their leaders).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kwire_codec::metadata::{MetadataRequest, MetadataResponse};
use kwire_codec::{ErrorCode, Uuid};

use crate::connection::{lock, Connection, ConnectionConfig};
use crate::error::ConnectionError;

/// A partition and its leader, as of the last metadata refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionMetadata {
    /// The partition number.
    pub partition: i32,
    /// The leader's broker id, or -1 when there is none.
    pub leader_id: i32,
    /// The leader epoch, or -1.
    pub leader_epoch: i32,
    /// The partition's error in the metadata response.
    pub error: ErrorCode,
}

/// A topic's partitions, as of the last metadata refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicMetadata {
    /// The topic name.
    pub name: String,
    /// The topic id (all zeros if the broker did not send one).
    pub topic_id: Uuid,
    /// The partitions, ordered by partition number.
    pub partitions: Vec<PartitionMetadata>,
}

impl TopicMetadata {
    /// The leader of `partition`, if it has one.
    pub fn leader(&self, partition: i32) -> Option<i32> {
        self.partitions
            .iter()
            .find(|p| p.partition == partition)
            .map(|p| p.leader_id)
            .filter(|id| *id >= 0)
    }
}

/// A broker's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerMetadata {
    /// The broker id.
    pub node_id: i32,
    /// `host:port`.
    pub addr: String,
    /// The rack, if any.
    pub rack: Option<String>,
}

/// How a [`Cluster`] behaves.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// Settings of each broker connection.
    pub connection: ConnectionConfig,
    /// Whether asking for a missing topic may create it (`allow_auto_topic_creation`).
    pub allow_auto_topic_creation: bool,
    /// How many times a metadata lookup is repeated while a topic is being created or a
    /// partition has no leader.
    pub metadata_retries: u32,
    /// Pause between those repeats.
    pub metadata_retry_backoff: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            connection: ConnectionConfig::default(),
            allow_auto_topic_creation: false,
            metadata_retries: 20,
            metadata_retry_backoff: Duration::from_millis(250),
        }
    }
}

#[derive(Default)]
struct State {
    brokers: HashMap<i32, BrokerMetadata>,
    topics: HashMap<String, Arc<TopicMetadata>>,
    cluster_id: Option<String>,
}

/// Connections to the brokers of one cluster, and its metadata cache.
pub struct Cluster {
    bootstrap: Vec<String>,
    config: ClusterConfig,
    state: Mutex<State>,
    connections: tokio::sync::Mutex<HashMap<i32, Connection>>,
    any: tokio::sync::Mutex<Option<Connection>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("bootstrap", &self.bootstrap)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Connects to the first reachable bootstrap address and learns the brokers.
    pub async fn connect<S: AsRef<str>>(
        bootstrap: &[S],
        config: ClusterConfig,
    ) -> Result<Cluster, ConnectionError> {
        let bootstrap: Vec<String> = bootstrap.iter().map(|s| s.as_ref().to_owned()).collect();
        for addr in &bootstrap {
            validate_addr(addr)?;
        }
        if bootstrap.is_empty() {
            return Err(ConnectionError::InvalidAddress {
                addr: String::new(),
                reason: "no bootstrap address given".to_owned(),
            });
        }
        let cluster = Cluster {
            bootstrap,
            config,
            state: Mutex::new(State::default()),
            connections: tokio::sync::Mutex::new(HashMap::new()),
            any: tokio::sync::Mutex::new(None),
        };
        cluster
            .fetch(MetadataRequest {
                topics: Some(Vec::new()),
                allow_auto_topic_creation: false,
                ..Default::default()
            })
            .await?;
        Ok(cluster)
    }

    /// The cluster id, if the brokers sent one.
    pub fn cluster_id(&self) -> Option<String> {
        lock(&self.state).cluster_id.clone()
    }

    /// The known brokers, ordered by id.
    pub fn brokers(&self) -> Vec<BrokerMetadata> {
        let mut out: Vec<_> = lock(&self.state).brokers.values().cloned().collect();
        out.sort_by_key(|b| b.node_id);
        out
    }

    /// The cached metadata of `topic`, without asking the cluster.
    pub fn cached_topic(&self, topic: &str) -> Option<Arc<TopicMetadata>> {
        lock(&self.state).topics.get(topic).cloned()
    }

    /// The metadata of `topic`: from the cache, or asked for when not cached.
    pub async fn topic(&self, topic: &str) -> Result<Arc<TopicMetadata>, ConnectionError> {
        if let Some(t) = self.cached_topic(topic) {
            return Ok(t);
        }
        self.refresh_topic(topic).await
    }

    /// Asks the cluster for `topic` again, waiting (within the retry budget) while it is
    /// being created or a partition has no leader.
    pub async fn refresh_topic(&self, topic: &str) -> Result<Arc<TopicMetadata>, ConnectionError> {
        let mut attempt = 0;
        loop {
            let response = self
                .fetch(MetadataRequest::for_topics(
                    &[topic],
                    self.config.allow_auto_topic_creation,
                ))
                .await;
            let outcome = match response {
                Ok(r) => topic_outcome(&r, topic),
                Err(e) if e.is_retriable() => Err(e),
                Err(e) => return Err(e),
            };
            match outcome {
                Ok(t) => {
                    let t = Arc::new(t);
                    lock(&self.state).topics.insert(topic.to_owned(), t.clone());
                    return Ok(t);
                }
                Err(e) => {
                    let retry = match &e {
                        ConnectionError::UnknownTopic { .. } => {
                            self.config.allow_auto_topic_creation
                        }
                        other => other.is_retriable(),
                    };
                    attempt += 1;
                    if !retry || attempt > self.config.metadata_retries {
                        return Err(e);
                    }
                    tokio::time::sleep(self.config.metadata_retry_backoff).await;
                }
            }
        }
    }

    /// Forgets the cached metadata of `topic`, so the next lookup asks the cluster.
    pub fn invalidate(&self, topic: &str) {
        lock(&self.state).topics.remove(topic);
    }

    /// A connection to broker `node_id`, opened if needed (and reopened if it closed).
    pub async fn broker(&self, node_id: i32) -> Result<Connection, ConnectionError> {
        let mut conns = self.connections.lock().await;
        if let Some(c) = conns.get(&node_id) {
            if !c.is_closed() {
                return Ok(c.clone());
            }
        }
        let addr = lock(&self.state)
            .brokers
            .get(&node_id)
            .map(|b| b.addr.clone())
            .ok_or(ConnectionError::UnknownBroker { node_id })?;
        let conn = Connection::connect(&addr, self.config.connection.clone()).await?;
        conns.insert(node_id, conn.clone());
        Ok(conn)
    }

    /// Sends a metadata request to any reachable broker and merges the answer into the cache.
    pub async fn fetch(
        &self,
        request: MetadataRequest,
    ) -> Result<MetadataResponse, ConnectionError> {
        let conn = self.any_connection().await?;
        let response = match conn.call(&request).await {
            Ok(r) => r,
            Err(e) => {
                // Try once more on a fresh connection; the old one may have gone stale.
                self.any.lock().await.take();
                if !e.is_retriable() {
                    return Err(e);
                }
                self.any_connection().await?.call(&request).await?
            }
        };
        if response.error_code != ErrorCode::None {
            return Err(ConnectionError::Broker {
                addr: conn.addr().to_owned(),
                api: "Metadata",
                error: response.error_code,
            });
        }
        let mut state = lock(&self.state);
        state.cluster_id = response.cluster_id.clone().or(state.cluster_id.take());
        if !response.brokers.is_empty() {
            state.brokers = response
                .brokers
                .iter()
                .map(|b| {
                    let meta = BrokerMetadata {
                        node_id: b.node_id,
                        addr: format!("{}:{}", b.host, b.port),
                        rack: b.rack.clone(),
                    };
                    (b.node_id, meta)
                })
                .collect();
        }
        Ok(response)
    }

    /// Any open connection: the last one used, a broker's, or a new one to a bootstrap address.
    async fn any_connection(&self) -> Result<Connection, ConnectionError> {
        let mut any = self.any.lock().await;
        if let Some(c) = any.as_ref() {
            if !c.is_closed() {
                return Ok(c.clone());
            }
        }
        let known: Vec<String> = lock(&self.state)
            .brokers
            .values()
            .map(|b| b.addr.clone())
            .collect();
        let mut last = None;
        for addr in self.bootstrap.iter().chain(known.iter()) {
            match Connection::connect(addr, self.config.connection.clone()).await {
                Ok(c) => {
                    *any = Some(c.clone());
                    return Ok(c);
                }
                Err(e) => last = Some(e),
            }
        }
        let last = last.expect("at least one bootstrap address");
        if self.bootstrap.len() == 1 && known.is_empty() {
            return Err(last);
        }
        Err(ConnectionError::NoBrokerReachable {
            addrs: self.bootstrap.join(", "),
            last: Box::new(last),
        })
    }
}

fn topic_outcome(
    response: &MetadataResponse,
    topic: &str,
) -> Result<TopicMetadata, ConnectionError> {
    let t = response
        .topics
        .iter()
        .find(|t| t.name.as_deref() == Some(topic))
        .ok_or_else(|| ConnectionError::UnknownTopic {
            topic: topic.to_owned(),
        })?;
    match t.error_code {
        ErrorCode::None => {}
        ErrorCode::UnknownTopicOrPartition => {
            return Err(ConnectionError::UnknownTopic {
                topic: topic.to_owned(),
            })
        }
        error => {
            return Err(ConnectionError::Topic {
                topic: topic.to_owned(),
                error,
            })
        }
    }
    let mut partitions: Vec<PartitionMetadata> = t
        .partitions
        .iter()
        .map(|p| PartitionMetadata {
            partition: p.partition_index,
            leader_id: p.leader_id,
            leader_epoch: p.leader_epoch,
            error: p.error_code,
        })
        .collect();
    partitions.sort_by_key(|p| p.partition);
    if partitions.is_empty() {
        return Err(ConnectionError::Topic {
            topic: topic.to_owned(),
            error: ErrorCode::LeaderNotAvailable,
        });
    }
    if let Some(p) = partitions.iter().find(|p| p.leader_id < 0) {
        let error = if p.error == ErrorCode::None {
            ErrorCode::LeaderNotAvailable
        } else {
            p.error
        };
        return Err(ConnectionError::Topic {
            topic: topic.to_owned(),
            error,
        });
    }
    Ok(TopicMetadata {
        name: topic.to_owned(),
        topic_id: t.topic_id,
        partitions,
    })
}

/// Checks that `addr` looks like `host:port`.
fn validate_addr(addr: &str) -> Result<(), ConnectionError> {
    let invalid = |reason: &str| ConnectionError::InvalidAddress {
        addr: addr.to_owned(),
        reason: reason.to_owned(),
    };
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| invalid("expected host:port"))?;
    if host.is_empty() {
        return Err(invalid("the host is empty"));
    }
    port.parse::<u16>()
        .map_err(|_| invalid("the port is not a number from 0 to 65535"))?;
    Ok(())
}
