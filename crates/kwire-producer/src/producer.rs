//! The producer: accumulate records into per-partition batches, send ready batches grouped
//! by leader, resolve each record's delivery future.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use kwire_codec::produce::{
    PartitionProduceData, ProduceRequest, ProduceResponse, TopicProduceData,
};
use kwire_codec::record::{BatchBuilder, RECORD_BATCH_OVERHEAD};
use kwire_codec::{ApiKey, EncodeError, ErrorCode};
use kwire_connection::{
    Cluster, ClusterConfig, ConnectionConfig, ConnectionError, ResponseFuture, TopicMetadata,
    WriteFuture,
};
use serde::Serialize;
use tokio::sync::{oneshot, Notify, Semaphore};

use crate::config::{Acks, ProducerConfig};
use crate::error::ProducerError;
use crate::partitioner::{LeastBytes, Partitioner};
use crate::record::{Delivery, Record};

type Reply = oneshot::Sender<Result<Delivery, ProducerError>>;

/// A record waiting for its batch's outcome.
struct Waiter {
    reply: Reply,
    timestamp: i64,
}

/// A batch still taking records.
struct OpenBatch {
    builder: BatchBuilder,
    waiters: Vec<Waiter>,
    reserved: usize,
    created: Instant,
}

/// A finished batch, waiting to be sent or resent.
struct Batch {
    topic: String,
    partition: i32,
    data: Bytes,
    waiters: Vec<Waiter>,
    reserved: usize,
    attempts: u32,
    created: Instant,
    not_before: Instant,
}

#[derive(Default)]
struct State {
    open: HashMap<(String, i32), OpenBatch>,
    ready: VecDeque<Batch>,
    in_flight: usize,
    /// Partitions with a batch in flight: the next batch of a partition waits for the
    /// outcome of the previous one, so that retries never reorder records.
    busy: HashSet<(String, i32)>,
    flush_requested: bool,
    closed: bool,
}

impl State {
    fn is_idle(&self) -> bool {
        self.open.is_empty() && self.ready.is_empty() && self.in_flight == 0
    }
}

struct Shared {
    cluster: Cluster,
    config: ProducerConfig,
    partitioner: Arc<dyn Partitioner>,
    state: Mutex<State>,
    /// Wakes the sender loop: new records, finished requests, flush, close.
    wake: Notify,
    /// Tells `flush` callers that everything was delivered.
    idle: Notify,
    /// Bytes of record data buffered; `send` waits for room.
    buffer: Semaphore,
}

/// Shuts the sender loop down (after delivering what is buffered) when the last
/// [`Producer`] clone is dropped.
struct Handle {
    shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
    }
}

/// A Kafka producer: create it once, clone it freely, share it across tasks.
///
/// Records are assigned a partition when they are sent, in the order they are sent, then
/// gathered into one batch per partition. A batch leaves when it is full
/// (`batch_size`) or has waited `linger`; batches for the same broker travel in one Produce
/// request. Each record's [`DeliveryFuture`] resolves once the broker has acknowledged it.
///
/// # Limitations
///
/// - Not idempotent: a batch resent after a timeout or a lost connection may be written
///   twice.
/// - Each partition has at most one batch in flight, so records of a partition land in the
///   order they were sent, retries included; parallelism comes from partitions and brokers.
/// - No transactions.
/// - With compression, `batch_size` and `max_request_size` apply to the records before they
///   are compressed, so batches are not packed up to the limit after compression as the
///   Java producer's ratio estimate does.
/// - Dropping every clone stops the producer after it has delivered (or failed) what was
///   buffered; call [`Producer::flush`] to wait for that.
#[derive(Clone)]
pub struct Producer {
    handle: Arc<Handle>,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("bootstrap", &self.handle.shared.config.bootstrap)
            .finish_non_exhaustive()
    }
}

/// Resolves to where a record landed, or why it did not.
#[derive(Debug)]
pub struct DeliveryFuture {
    reply: oneshot::Receiver<Result<Delivery, ProducerError>>,
}

impl Future for DeliveryFuture {
    type Output = Result<Delivery, ProducerError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.reply)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(ProducerError::Closed)))
    }
}

impl Producer {
    /// Connects to the cluster with the default partitioner, [`LeastBytes`].
    pub async fn connect(config: ProducerConfig) -> Result<Producer, ProducerError> {
        Self::with_partitioner(config, Arc::new(LeastBytes::new())).await
    }

    /// Connects to the cluster with `partitioner`.
    ///
    /// Fails at once with [`EncodeError::CompressionNotEnabled`] when `config.compression`
    /// names a codec whose cargo feature this build lacks.
    pub async fn with_partitioner(
        config: ProducerConfig,
        partitioner: Arc<dyn Partitioner>,
    ) -> Result<Producer, ProducerError> {
        if !config.compression.is_enabled() {
            return Err(EncodeError::CompressionNotEnabled(config.compression.name()).into());
        }
        let cluster_config = ClusterConfig {
            connection: ConnectionConfig {
                client_id: config.client_id.clone(),
                connect_timeout: config.connect_timeout,
                request_timeout: config.request_timeout,
                max_in_flight: config.max_in_flight,
                ..ConnectionConfig::default()
            },
            allow_auto_topic_creation: config.allow_auto_topic_creation,
            ..ClusterConfig::default()
        };
        let cluster = Cluster::connect(&config.bootstrap, cluster_config).await?;
        let shared = Arc::new(Shared {
            cluster,
            buffer: Semaphore::new(config.buffer_memory.max(1)),
            config,
            partitioner,
            state: Mutex::new(State::default()),
            wake: Notify::new(),
            idle: Notify::new(),
        });
        tokio::spawn(run(shared.clone()));
        Ok(Producer {
            handle: Arc::new(Handle { shared }),
        })
    }

    /// The cluster this producer talks to (brokers, metadata).
    pub fn cluster(&self) -> &Cluster {
        &self.handle.shared.cluster
    }

    /// The settings in force.
    pub fn config(&self) -> &ProducerConfig {
        &self.handle.shared.config
    }

    /// Serializes `value` as JSON, sends it as the value of a record without key to `topic`,
    /// and waits until the broker acknowledges it.
    pub async fn send_json<T: Serialize + ?Sized>(
        &self,
        topic: &str,
        value: &T,
    ) -> Result<Delivery, ProducerError> {
        let bytes = serde_json::to_vec(value).map_err(|e| ProducerError::Serialize(Arc::new(e)))?;
        self.send(topic, Record::value(bytes)).await?.await
    }

    /// Queues `record` for `topic` and returns a future of its delivery. Waits only for
    /// buffer room and, the first time a topic is used, for its metadata.
    pub async fn send(&self, topic: &str, record: Record) -> Result<DeliveryFuture, ProducerError> {
        let shared = &self.handle.shared;
        let size = BatchBuilder::record_size_estimate(
            record.key.as_deref(),
            record.value.as_deref(),
            &record.headers,
        );
        let max = shared.config.max_request_size;
        if size + RECORD_BATCH_OVERHEAD > max {
            return Err(ProducerError::RecordTooLarge {
                size: size + RECORD_BATCH_OVERHEAD,
                max,
            });
        }
        let reserved = size.min(shared.config.buffer_memory.max(1));
        shared
            .buffer
            .acquire_many(reserved as u32)
            .await
            .map_err(|_| ProducerError::Closed)?
            .forget();
        let result = match shared.cluster.topic(topic).await {
            Ok(meta) => shared.enqueue(topic, &meta, record, size, reserved),
            Err(e) => Err(e.into()),
        };
        if result.is_err() {
            shared.buffer.add_permits(reserved);
        }
        result
    }

    /// Sends every buffered record now and waits until each has succeeded or failed.
    pub async fn flush(&self) {
        let shared = &self.handle.shared;
        loop {
            let idle = shared.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            {
                let mut state = shared.lock();
                if state.is_idle() {
                    return;
                }
                state.flush_requested = true;
            }
            shared.wake.notify_one();
            idle.await;
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Picks the partition and appends the record (of about `size` bytes, from
    /// [`BatchBuilder::record_size_estimate`]) to its open batch, all under one lock, so that
    /// records are assigned in the order they are sent.
    fn enqueue(
        &self,
        topic: &str,
        meta: &TopicMetadata,
        record: Record,
        size: usize,
        reserved: usize,
    ) -> Result<DeliveryFuture, ProducerError> {
        let mut state = self.lock();
        if state.closed {
            return Err(ProducerError::Closed);
        }
        let partitions = meta.partitions.len();
        let partition = match record.partition {
            Some(p) if p >= 0 && (p as usize) < partitions => p,
            Some(p) => {
                return Err(ProducerError::UnknownPartition {
                    topic: topic.to_owned(),
                    partition: p,
                    partitions,
                })
            }
            None => self.partitioner.partition(
                topic,
                partitions as u32,
                record.key.as_deref(),
                record.value.as_deref(),
            ) as i32,
        };
        let timestamp = record.timestamp.unwrap_or_else(now_ms);
        let key = (topic.to_owned(), partition);
        let full = |b: &OpenBatch| {
            !b.builder.is_empty()
                && (b.builder.size() + size > self.config.batch_size.max(RECORD_BATCH_OVERHEAD + 1)
                    || b.builder.size() + size > self.config.max_request_size)
        };
        if state.open.get(&key).is_some_and(full) {
            let open = state.open.remove(&key).expect("checked above");
            self.seal(&mut state, key.clone(), open);
        }
        let capacity = self.config.batch_size.max(size + RECORD_BATCH_OVERHEAD);
        let open = state.open.entry(key.clone()).or_insert_with(|| OpenBatch {
            builder: BatchBuilder::with_capacity(timestamp, capacity),
            waiters: Vec::new(),
            reserved: 0,
            created: Instant::now(),
        });
        open.builder.append(
            timestamp,
            record.key.as_deref(),
            record.value.as_deref(),
            &record.headers,
        )?;
        let (reply, rx) = oneshot::channel();
        open.waiters.push(Waiter { reply, timestamp });
        open.reserved += reserved;
        if open.builder.size() >= self.config.batch_size {
            let open = state.open.remove(&key).expect("just inserted");
            self.seal(&mut state, key, open);
        }
        drop(state);
        self.wake.notify_one();
        Ok(DeliveryFuture { reply: rx })
    }

    /// Finishes an open batch and queues it to be sent.
    fn seal(&self, state: &mut State, (topic, partition): (String, i32), open: OpenBatch) {
        match open.builder.finish_compressed(self.config.compression) {
            Ok(data) => state.ready.push_back(Batch {
                topic,
                partition,
                data,
                waiters: open.waiters,
                reserved: open.reserved,
                attempts: 0,
                created: open.created,
                not_before: Instant::now(),
            }),
            Err(e) => {
                for w in open.waiters {
                    let _ = w.reply.send(Err(e.clone().into()));
                }
                self.buffer.add_permits(open.reserved);
            }
        }
    }

    /// Seals batches that are due and takes the ready batches that may go now (at most one
    /// per partition). Returns them and when to look again.
    fn collect(&self) -> (Vec<Batch>, Option<Instant>, bool) {
        let mut state = self.lock();
        let now = Instant::now();
        let linger = self.config.linger;
        let everything = state.closed || state.flush_requested;
        let due: Vec<(String, i32)> = state
            .open
            .iter()
            .filter(|(_, b)| everything || now.duration_since(b.created) >= linger)
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            let open = state.open.remove(&key).expect("listed above");
            self.seal(&mut state, key, open);
        }
        let mut taken = Vec::new();
        let mut kept = VecDeque::new();
        // A partition whose first ready batch must wait (in flight, or backing off before a
        // retry) holds back its later batches too, so that none overtakes it.
        let mut held = HashSet::new();
        while let Some(b) = state.ready.pop_front() {
            let key = (b.topic.clone(), b.partition);
            if b.not_before <= now && !state.busy.contains(&key) && !held.contains(&key) {
                state.busy.insert(key);
                taken.push(b);
            } else {
                held.insert(key);
                kept.push_back(b);
            }
        }
        state.ready = kept;
        state.in_flight += taken.len();
        // Only the first waiting batch of a partition that is not in flight can become
        // sendable by time alone (when its retry backoff ends).
        let mut firsts = HashSet::new();
        let next = state
            .open
            .values()
            .map(|b| b.created + linger)
            .chain(
                state
                    .ready
                    .iter()
                    .filter(|b| firsts.insert((b.topic.clone(), b.partition)))
                    .filter(|b| !state.busy.contains(&(b.topic.clone(), b.partition)))
                    .map(|b| b.not_before.max(now)),
            )
            .min();
        let done = state.closed && state.is_idle();
        if state.is_idle() {
            state.flush_requested = false;
            self.idle.notify_waiters();
        }
        (taken, next, done)
    }

    /// Marks `n` batches as no longer in flight.
    fn finished(&self, n: usize) {
        let mut state = self.lock();
        state.in_flight -= n;
        if state.is_idle() {
            state.flush_requested = false;
            self.idle.notify_waiters();
        }
        drop(state);
        self.wake.notify_one();
    }

    /// Lets the next batch of the batch's partition go.
    fn release(&self, batch: &Batch) {
        self.lock()
            .busy
            .remove(&(batch.topic.clone(), batch.partition));
    }

    fn succeed(&self, batch: Batch, base_offset: i64, log_append_time_ms: i64) {
        self.release(&batch);
        for (i, w) in batch.waiters.into_iter().enumerate() {
            let offset = if base_offset < 0 {
                -1
            } else {
                base_offset + i as i64
            };
            let timestamp = if log_append_time_ms >= 0 {
                log_append_time_ms
            } else {
                w.timestamp
            };
            let _ = w.reply.send(Ok(Delivery {
                topic: batch.topic.clone(),
                partition: batch.partition,
                offset,
                timestamp,
            }));
        }
        self.buffer.add_permits(batch.reserved);
    }

    /// Queues the batch again if the error allows and the budget is not spent; else fails
    /// every record in it.
    fn retry_or_fail(&self, mut batch: Batch, error: ProducerError, refresh_metadata: bool) {
        batch.attempts += 1;
        let elapsed = batch.created.elapsed();
        let backoff = self.config.retry_backoff;
        let may_retry = error.is_retriable()
            && batch.attempts <= self.config.retries
            && elapsed + backoff < self.config.delivery_timeout;
        if may_retry {
            if refresh_metadata {
                self.cluster.invalidate(&batch.topic);
            }
            batch.not_before = Instant::now() + backoff;
            // Released and requeued under one lock, so no later batch of the partition
            // can slip in first.
            let mut state = self.lock();
            state.busy.remove(&(batch.topic.clone(), batch.partition));
            state.ready.push_front(batch);
            return;
        }
        self.release(&batch);
        let error = if batch.attempts > 1 {
            ProducerError::RetriesExhausted {
                topic: batch.topic.clone(),
                partition: batch.partition,
                attempts: batch.attempts,
                elapsed,
                last: Box::new(error),
            }
        } else {
            error
        };
        for w in batch.waiters {
            let _ = w.reply.send(Err(error.clone()));
        }
        self.buffer.add_permits(batch.reserved);
    }
}

/// The sender loop: runs until the producer is dropped and everything buffered is done.
async fn run(shared: Arc<Shared>) {
    loop {
        let (batches, next, done) = shared.collect();
        if done {
            return;
        }
        if !batches.is_empty() {
            dispatch(&shared, batches).await;
        }
        match next {
            Some(at) => {
                tokio::select! {
                    _ = shared.wake.notified() => {}
                    _ = tokio::time::sleep_until(at.into()) => {}
                }
            }
            None => shared.wake.notified().await,
        }
    }
}

/// Groups batches by leader and sends one request per leader, each in its own task.
async fn dispatch(shared: &Arc<Shared>, batches: Vec<Batch>) {
    let mut by_leader: HashMap<i32, Vec<(Batch, Arc<TopicMetadata>)>> = HashMap::new();
    for batch in batches {
        let meta = match shared.cluster.topic(&batch.topic).await {
            Ok(m) => m,
            Err(e) => {
                shared.retry_or_fail(batch, e.into(), true);
                shared.finished(1);
                continue;
            }
        };
        match meta.leader(batch.partition) {
            Some(leader) => by_leader.entry(leader).or_default().push((batch, meta)),
            None => {
                let error = ConnectionError::Topic {
                    topic: batch.topic.clone(),
                    error: ErrorCode::LeaderNotAvailable,
                };
                shared.retry_or_fail(batch, error.into(), true);
                shared.finished(1);
            }
        }
    }
    // Requests are queued on each connection here, in order, so that batches of one
    // partition reach the broker in the order they were made; only the waiting for
    // responses happens in separate tasks.
    let mut leaders: Vec<_> = by_leader.into_iter().collect();
    leaders.sort_by_key(|(leader, _)| *leader);
    for (leader, group) in leaders {
        let n = group.len();
        match produce(shared, leader, &group).await {
            Err(e) => {
                retry_or_fail_group(shared, group, &e);
                shared.finished(n);
            }
            Ok(Sent::WithoutResponse(written)) => {
                // Waited for in a task of its own, like a response: a broker that stops
                // reading must not hold up the batches for the others.
                let shared = shared.clone();
                tokio::spawn(async move {
                    match written.wait().await {
                        Ok(()) => {
                            for (batch, _) in group {
                                shared.succeed(batch, -1, -1);
                            }
                        }
                        Err(e) => retry_or_fail_group(&shared, group, &e.into()),
                    }
                    shared.finished(n);
                });
            }
            Ok(Sent::Pending(response, by_id)) => {
                let shared = shared.clone();
                tokio::spawn(async move {
                    match response.wait().await {
                        Ok(response) => settle(&shared, group, &response, by_id),
                        Err(e) => retry_or_fail_group(&shared, group, &e.into()),
                    }
                    shared.finished(n);
                });
            }
        }
    }
}

/// Requeues or fails every batch of a request for `error`, which concerns the whole
/// request (so metadata is refreshed before a retry).
fn retry_or_fail_group(
    shared: &Shared,
    group: Vec<(Batch, Arc<TopicMetadata>)>,
    error: &ProducerError,
) {
    for (batch, _) in group {
        shared.retry_or_fail(batch, error.clone(), true);
    }
}

/// A Produce request on its way.
enum Sent {
    /// acks=0: the broker will not answer; the request is delivered once written.
    WithoutResponse(WriteFuture),
    /// The response to come, and whether topics are named by id (v13+).
    Pending(ResponseFuture<ProduceResponse>, bool),
}

/// Builds one Produce request for `group` and queues it on the leader's connection.
async fn produce(
    shared: &Shared,
    leader: i32,
    group: &[(Batch, Arc<TopicMetadata>)],
) -> Result<Sent, ProducerError> {
    let conn = shared.cluster.broker(leader).await?;
    let mut version = conn.version(ApiKey::Produce)?;
    let all_have_ids = group.iter().all(|(_, m)| m.topic_id != [0; 16]);
    if version >= 13 && !all_have_ids {
        version = 12;
    }
    let by_id = version >= 13;
    let mut topics: Vec<TopicProduceData> = Vec::new();
    for (batch, meta) in group {
        let data = PartitionProduceData {
            index: batch.partition,
            records: Some(batch.data.clone()),
            unknown_tagged_fields: Vec::new(),
        };
        match topics.iter_mut().find(|t| t.name == batch.topic) {
            Some(t) => t.partition_data.push(data),
            None => topics.push(TopicProduceData {
                name: batch.topic.clone(),
                topic_id: meta.topic_id,
                partition_data: vec![data],
                unknown_tagged_fields: Vec::new(),
            }),
        }
    }
    let request = ProduceRequest {
        transactional_id: None,
        acks: shared.config.acks.code(),
        timeout_ms: shared
            .config
            .request_timeout
            .as_millis()
            .min(i32::MAX as u128) as i32,
        topic_data: topics,
        unknown_tagged_fields: Vec::new(),
    };
    if shared.config.acks == Acks::None {
        let written = conn.start_send_without_response(version, &request)?;
        return Ok(Sent::WithoutResponse(written));
    }
    let response = conn.start_call(version, &request).await?;
    Ok(Sent::Pending(response, by_id))
}

/// Resolves or requeues each batch from its partition's result.
fn settle(
    shared: &Shared,
    group: Vec<(Batch, Arc<TopicMetadata>)>,
    response: &ProduceResponse,
    by_id: bool,
) {
    for (batch, meta) in group {
        let result = response
            .responses
            .iter()
            .filter(|t| {
                if by_id {
                    t.topic_id == meta.topic_id
                } else {
                    t.name == batch.topic
                }
            })
            .flat_map(|t| t.partition_responses.iter())
            .find(|p| p.index == batch.partition);
        let Some(p) = result else {
            let error = ProducerError::Broker {
                topic: batch.topic.clone(),
                partition: batch.partition,
                error: ErrorCode::UnknownServerError,
                message: Some("the response did not mention this partition".to_owned()),
            };
            shared.retry_or_fail(batch, error, false);
            continue;
        };
        if p.error_code == ErrorCode::None {
            shared.succeed(batch, p.base_offset, p.log_append_time_ms);
            continue;
        }
        let message = p.error_message.clone().or_else(|| {
            p.record_errors
                .iter()
                .find_map(|e| e.batch_index_error_message.clone())
        });
        let error = ProducerError::Broker {
            topic: batch.topic.clone(),
            partition: batch.partition,
            error: p.error_code,
            message,
        };
        shared.retry_or_fail(batch, error, p.error_code.invalidates_metadata());
    }
}
