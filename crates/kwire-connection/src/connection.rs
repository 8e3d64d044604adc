//! One TCP session to one broker.
//!
//! A [`Connection`] is cheap to clone and safe to use from many tasks. Requests go to a
//! writer task through a channel, so a caller that gives up (drops its future, or times out)
//! never leaves half a frame on the socket. A reader task matches each response to the oldest
//! request still waiting: Kafka answers the requests of one connection strictly in order, so
//! a response whose correlation id is not the expected one means the stream is out of step,
//! and the connection is closed rather than risk giving a response to the wrong caller.
//!
//! When the connection dies, every request in flight fails with
//! [`ConnectionError::Closed`], and so does every later one.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kwire_codec::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use kwire_codec::header::split_frame;
use kwire_codec::{
    encode_request_frame, ApiKey, ErrorCode, Message, Reader, Request, RequestHeader,
    ResponseHeader,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use crate::error::ConnectionError;

/// How a connection behaves.
#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    /// Sent in every request header.
    pub client_id: String,
    /// How long opening the TCP connection may take.
    pub connect_timeout: Duration,
    /// How long a response may take once the request is queued.
    pub request_timeout: Duration,
    /// Requests in flight at once on one connection; more wait for a slot.
    pub max_in_flight: usize,
    /// The largest response frame accepted; a larger size prefix closes the connection.
    pub max_response_size: usize,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            client_id: "kwire".to_owned(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_in_flight: 5,
            max_response_size: 100 * 1024 * 1024,
        }
    }
}

/// How much the read buffer grows by at a time.
const READ_CHUNK: usize = 64 * 1024;

type Reply = oneshot::Sender<Result<Bytes, ConnectionError>>;

/// A request waiting for its response.
struct Waiter {
    correlation_id: i32,
    reply: Reply,
    _slot: OwnedSemaphorePermit,
}

/// Requests in flight, and why the connection closed once it has.
#[derive(Default)]
struct Pending {
    waiters: VecDeque<Waiter>,
    closed: Option<String>,
}

struct Outgoing {
    frame: Bytes,
    waiter: Option<Waiter>,
    /// Told once the frame is written to the socket (or could not be): how a request
    /// without a response learns that it left.
    written: Option<oneshot::Sender<Result<(), ConnectionError>>>,
}

struct Inner {
    addr: String,
    config: ConnectionConfig,
    outgoing: mpsc::UnboundedSender<Outgoing>,
    pending: Arc<Mutex<Pending>>,
    slots: Arc<Semaphore>,
    next_correlation_id: AtomicI32,
    versions: Mutex<Option<ApiVersionsResponse>>,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.reader.abort();
        self.writer.abort();
    }
}

/// A TCP session to one broker, with versions negotiated.
#[derive(Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("addr", &self.inner.addr)
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl Connection {
    /// Opens a connection to `addr` (`host:port`) and negotiates API versions.
    pub async fn connect(
        addr: &str,
        config: ConnectionConfig,
    ) -> Result<Connection, ConnectionError> {
        let stream = tokio::time::timeout(config.connect_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| ConnectionError::ConnectTimeout {
                addr: addr.to_owned(),
                after: config.connect_timeout,
            })?
            .map_err(|source| ConnectionError::Connect {
                addr: addr.to_owned(),
                source,
            })?;
        let _ = stream.set_nodelay(true);
        let conn = Connection::from_stream(addr, stream, config);
        conn.negotiate().await?;
        Ok(conn)
    }

    /// Wraps an open stream without negotiating versions (for tests against scripted peers;
    /// call [`Connection::negotiate`] before [`Connection::version`]).
    pub fn from_stream(addr: &str, stream: TcpStream, config: ConnectionConfig) -> Connection {
        let (read, write) = stream.into_split();
        let pending = Arc::new(Mutex::new(Pending::default()));
        let (tx, rx) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_loop(addr.to_owned(), write, rx, pending.clone()));
        let reader = tokio::spawn(read_loop(
            addr.to_owned(),
            read,
            pending.clone(),
            config.max_response_size,
        ));
        Connection {
            inner: Arc::new(Inner {
                addr: addr.to_owned(),
                slots: Arc::new(Semaphore::new(config.max_in_flight.max(1))),
                config,
                outgoing: tx,
                pending,
                next_correlation_id: AtomicI32::new(1),
                versions: Mutex::new(None),
                reader,
                writer,
            }),
        }
    }

    /// The broker's address.
    pub fn addr(&self) -> &str {
        &self.inner.addr
    }

    /// Whether the connection has closed; a closed connection fails every request.
    pub fn is_closed(&self) -> bool {
        lock(&self.inner.pending).closed.is_some()
    }

    /// Closes the connection: requests in flight fail with [`ConnectionError::Closed`].
    pub fn close(&self) {
        self.close_because("closed by the client".to_owned());
    }

    /// Asks the broker which versions it serves (ApiVersions, newest first, falling back to
    /// the version the broker names when it answers UNSUPPORTED_VERSION) and remembers them.
    pub async fn negotiate(&self) -> Result<ApiVersionsResponse, ConnectionError> {
        let request = ApiVersionsRequest {
            client_software_name: "kwire".to_owned(),
            client_software_version: env!("CARGO_PKG_VERSION").to_owned(),
            ..Default::default()
        };
        let mut version = kwire_codec::api_versions::MAX_VERSION;
        loop {
            let frame = self
                .round_trip(ApiKey::ApiVersions, version, &request)
                .await?;
            let mut r = Reader::new(frame);
            ResponseHeader::decode(&mut r, 0).map_err(|e| self.decode_error(e))?;
            let body = r.take_rest();
            let (response, _) = ApiVersionsResponse::decode_with_fallback(body, version)
                .map_err(|e| self.decode_error(e))?;
            match response.error_code {
                ErrorCode::None => {
                    *lock(&self.inner.versions) = Some(response.clone());
                    return Ok(response);
                }
                ErrorCode::UnsupportedVersion => {
                    let broker_max = response.range(ApiKey::ApiVersions.code()).map(|r| r.1);
                    match broker_max {
                        Some(max) if max < version && max >= 0 => version = max,
                        _ => return Err(self.broker_error("ApiVersions", response.error_code)),
                    }
                }
                error => return Err(self.broker_error("ApiVersions", error)),
            }
        }
    }

    /// The version to use for `api`: the highest that both kwire and the broker serve.
    pub fn version(&self, api: ApiKey) -> Result<i16, ConnectionError> {
        let (our_min, our_max) = api.versions();
        let versions = lock(&self.inner.versions);
        let broker = versions.as_ref().and_then(|v| v.range(api.code()));
        let unsupported = || ConnectionError::Unsupported {
            addr: self.inner.addr.clone(),
            api: api.name(),
            ours: (our_min, our_max),
            broker,
        };
        let (broker_min, broker_max) = broker.ok_or_else(unsupported)?;
        let high = our_max.min(broker_max);
        // Kafka 4.x advertises Produce min 0 but refuses v0-2 (KAFKA-18659); our_min covers it.
        if high < our_min.max(broker_min) {
            return Err(unsupported());
        }
        Ok(high)
    }

    /// Sends `request` at the negotiated version and waits for its response.
    pub async fn call<R: Request>(&self, request: &R) -> Result<R::Response, ConnectionError> {
        let api = api_key_of::<R>();
        let version = self.version(api)?;
        self.call_at(version, request).await
    }

    /// Sends `request` at `version` and waits for its response.
    pub async fn call_at<R: Request>(
        &self,
        version: i16,
        request: &R,
    ) -> Result<R::Response, ConnectionError> {
        self.start_call(version, request).await?.wait().await
    }

    /// Queues `request` at `version` for writing and returns the future of its response.
    ///
    /// Requests reach the socket in the order their `start_call` returned, so a caller that
    /// starts several calls one after another knows the broker sees them in that order. The
    /// response future may then be awaited anywhere; the request timeout counts from here.
    pub async fn start_call<R: Request>(
        &self,
        version: i16,
        request: &R,
    ) -> Result<ResponseFuture<R::Response>, ConnectionError> {
        let api = api_key_of::<R>();
        let deadline = tokio::time::Instant::now() + self.inner.config.request_timeout;
        let response = tokio::time::timeout_at(deadline, self.queue(api, version, request))
            .await
            .map_err(|_| self.timeout_error(api))??;
        Ok(ResponseFuture {
            conn: self.clone(),
            api,
            version,
            deadline,
            response,
            _body: std::marker::PhantomData,
        })
    }

    /// Queues `request` at `version`, which gets no response (Produce with acks=0, which
    /// the broker never answers); [`WriteFuture::wait`] tells when it is written.
    ///
    /// # Errors
    ///
    /// [`ConnectionError::Closed`] when the connection is closed; encoding errors.
    pub fn start_send_without_response<R: Request>(
        &self,
        version: i16,
        request: &R,
    ) -> Result<WriteFuture, ConnectionError> {
        let api = api_key_of::<R>();
        let frame = self.encode(api, version, request)?.1;
        self.check_open()?;
        let (written, done) = oneshot::channel();
        self.inner
            .outgoing
            .send(Outgoing {
                frame,
                waiter: None,
                written: Some(written),
            })
            .map_err(|_| self.closed_error())?;
        Ok(WriteFuture {
            conn: self.clone(),
            api,
            deadline: tokio::time::Instant::now() + self.inner.config.request_timeout,
            done,
        })
    }

    /// Sends `request` at `version`, which gets no response, and returns once it is written
    /// to the socket: after that, dropping the connection no longer loses it (the operating
    /// system sends what it was given before closing).
    ///
    /// # Errors
    ///
    /// As [`Connection::start_send_without_response`] and [`WriteFuture::wait`].
    pub async fn send_without_response<R: Request>(
        &self,
        version: i16,
        request: &R,
    ) -> Result<(), ConnectionError> {
        self.start_send_without_response(version, request)?
            .wait()
            .await
    }

    /// Closes the connection for `reason`: requests in flight fail with it.
    fn close_because(&self, reason: String) {
        fail_all(&self.inner.pending, reason, &self.inner.addr);
        self.inner.reader.abort();
        self.inner.writer.abort();
    }

    fn encode<M: Message>(
        &self,
        api: ApiKey,
        version: i16,
        body: &M,
    ) -> Result<(i32, Bytes), ConnectionError> {
        let correlation_id = self
            .inner
            .next_correlation_id
            .fetch_add(1, Ordering::Relaxed);
        let header = RequestHeader {
            request_api_key: api.code(),
            request_api_version: version,
            correlation_id,
            client_id: Some(self.inner.config.client_id.clone()),
            unknown_tagged_fields: Vec::new(),
        };
        let mut buf = BytesMut::new();
        encode_request_frame(&header, body, &mut buf)?;
        Ok((correlation_id, buf.freeze()))
    }

    /// Queues a request frame and waits for the response frame (without its size prefix).
    async fn round_trip<M: Message>(
        &self,
        api: ApiKey,
        version: i16,
        body: &M,
    ) -> Result<Bytes, ConnectionError> {
        let deadline = tokio::time::Instant::now() + self.inner.config.request_timeout;
        let exchange = async {
            self.queue(api, version, body)
                .await?
                .await
                .map_err(|_| self.closed_error())?
        };
        tokio::time::timeout_at(deadline, exchange)
            .await
            .map_err(|_| self.timeout_error(api))?
    }

    /// Waits for an in-flight slot, then hands the frame to the writer task. Returns the
    /// channel its response frame will arrive on.
    async fn queue<M: Message>(
        &self,
        api: ApiKey,
        version: i16,
        body: &M,
    ) -> Result<oneshot::Receiver<Result<Bytes, ConnectionError>>, ConnectionError> {
        let (correlation_id, frame) = self.encode(api, version, body)?;
        let slot = self
            .inner
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| self.closed_error())?;
        self.check_open()?;
        let (reply, response) = oneshot::channel();
        let waiter = Waiter {
            correlation_id,
            reply,
            _slot: slot,
        };
        self.inner
            .outgoing
            .send(Outgoing {
                frame,
                waiter: Some(waiter),
                written: None,
            })
            .map_err(|_| self.closed_error())?;
        Ok(response)
    }

    fn timeout_error(&self, api: ApiKey) -> ConnectionError {
        ConnectionError::Timeout {
            api: api.name(),
            addr: self.inner.addr.clone(),
            after: self.inner.config.request_timeout,
        }
    }

    fn check_open(&self) -> Result<(), ConnectionError> {
        match &lock(&self.inner.pending).closed {
            Some(reason) => Err(ConnectionError::Closed {
                addr: self.inner.addr.clone(),
                reason: Some(reason.clone()),
            }),
            None => Ok(()),
        }
    }

    fn closed_error(&self) -> ConnectionError {
        ConnectionError::Closed {
            addr: self.inner.addr.clone(),
            reason: lock(&self.inner.pending).closed.clone(),
        }
    }

    fn decode_error(&self, source: kwire_codec::DecodeError) -> ConnectionError {
        ConnectionError::Decode {
            addr: self.inner.addr.clone(),
            source,
        }
    }

    fn broker_error(&self, api: &'static str, error: ErrorCode) -> ConnectionError {
        ConnectionError::Broker {
            addr: self.inner.addr.clone(),
            api,
            error,
        }
    }
}

fn api_key_of<M: Message>() -> ApiKey {
    ApiKey::from_code(M::API_KEY).expect("every Request type is an API the codec speaks")
}

/// Locks `m`, carrying on after a panic elsewhere poisoned it (the guarded state stays
/// consistent: every critical section here is a few plain assignments).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Marks the connection closed and fails every waiting request.
fn fail_all(pending: &Mutex<Pending>, reason: String, addr: &str) {
    let waiters = {
        let mut p = lock(pending);
        if p.closed.is_none() {
            p.closed = Some(reason.clone());
        }
        std::mem::take(&mut p.waiters)
    };
    for w in waiters {
        let _ = w.reply.send(Err(ConnectionError::Closed {
            addr: addr.to_owned(),
            reason: Some(reason.clone()),
        }));
    }
}

async fn write_loop(
    addr: String,
    mut socket: OwnedWriteHalf,
    mut outgoing: mpsc::UnboundedReceiver<Outgoing>,
    pending: Arc<Mutex<Pending>>,
) {
    while let Some(out) = outgoing.recv().await {
        {
            let mut p = lock(&pending);
            if let Some(reason) = &p.closed {
                let closed = || ConnectionError::Closed {
                    addr: addr.clone(),
                    reason: Some(reason.clone()),
                };
                if let Some(w) = out.waiter {
                    let _ = w.reply.send(Err(closed()));
                }
                if let Some(written) = out.written {
                    let _ = written.send(Err(closed()));
                }
                continue;
            }
            // Registered before writing, so the reader can never see a response first.
            if let Some(w) = out.waiter {
                p.waiters.push_back(w);
            }
        }
        if let Err(e) = socket.write_all(&out.frame).await {
            let reason = format!("write failed: {e}");
            if let Some(written) = out.written {
                let _ = written.send(Err(ConnectionError::Closed {
                    addr: addr.clone(),
                    reason: Some(reason.clone()),
                }));
            }
            fail_all(&pending, reason, &addr);
            return;
        }
        if let Some(written) = out.written {
            let _ = written.send(Ok(()));
        }
    }
}

async fn read_loop(
    addr: String,
    mut socket: OwnedReadHalf,
    pending: Arc<Mutex<Pending>>,
    max_size: usize,
) {
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let reason = loop {
        match split_frame(&mut buf, max_size) {
            Err(e) => break format!("bad response frame: {e}"),
            Ok(Some(frame)) => {
                if frame.len() < 4 {
                    break format!(
                        "response frame of {} bytes has no correlation id",
                        frame.len()
                    );
                }
                let got = i32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
                let waiter = lock(&pending).waiters.pop_front();
                match waiter {
                    Some(w) if w.correlation_id == got => {
                        // The caller may have given up; the response is then dropped.
                        let _ = w.reply.send(Ok(frame));
                    }
                    Some(w) => {
                        let expected = w.correlation_id;
                        let _ = w.reply.send(Err(ConnectionError::CorrelationMismatch {
                            addr: addr.clone(),
                            expected,
                            got,
                        }));
                        break format!(
                            "response correlation id {got} does not match the expected {expected}"
                        );
                    }
                    None => break format!("unexpected response with correlation id {got}"),
                }
                continue;
            }
            Ok(None) => {}
        }
        // Grow in steps as bytes arrive, never by what a size prefix merely claims.
        if buf.capacity() - buf.len() < READ_CHUNK / 2 {
            buf.reserve(READ_CHUNK);
        }
        match socket.read_buf(&mut buf).await {
            Ok(0) if buf.is_empty() => break "closed by the broker".to_owned(),
            Ok(0) => {
                break format!(
                    "closed by the broker in the middle of a frame ({} bytes received)",
                    buf.len()
                )
            }
            Ok(_) => {}
            Err(e) => break format!("read failed: {e}"),
        }
    };
    fail_all(&pending, reason, &addr);
}

/// A request without a response, queued with [`Connection::start_send_without_response`];
/// [`WriteFuture::wait`] tells when it is written.
pub struct WriteFuture {
    conn: Connection,
    api: ApiKey,
    deadline: tokio::time::Instant,
    done: oneshot::Receiver<Result<(), ConnectionError>>,
}

impl WriteFuture {
    /// Waits until the request is written to the socket, until the request timeout.
    ///
    /// # Errors
    ///
    /// [`ConnectionError::Closed`] when the connection closed or the write failed.
    /// [`ConnectionError::Timeout`] when the request was not written in time (the peer stopped
    /// reading): the connection is then closed, so that the rest of the frame, and the
    /// requests queued behind it, never reach the peer after the caller was told they failed.
    pub async fn wait(self) -> Result<(), ConnectionError> {
        match tokio::time::timeout_at(self.deadline, self.done).await {
            Err(_) => {
                let error = self.conn.timeout_error(self.api);
                self.conn.close_because(error.to_string());
                Err(error)
            }
            Ok(Err(_)) => Err(self.conn.closed_error()),
            Ok(Ok(result)) => result,
        }
    }
}

/// The response to a request queued with [`Connection::start_call`]; [`ResponseFuture::wait`]
/// gives it.
pub struct ResponseFuture<T> {
    conn: Connection,
    api: ApiKey,
    version: i16,
    deadline: tokio::time::Instant,
    response: oneshot::Receiver<Result<Bytes, ConnectionError>>,
    _body: std::marker::PhantomData<fn() -> T>,
}

impl<T: Message> ResponseFuture<T> {
    /// Waits for the response (until the request timeout) and decodes it.
    pub async fn wait(self) -> Result<T, ConnectionError> {
        let conn = &self.conn;
        let frame = tokio::time::timeout_at(self.deadline, self.response)
            .await
            .map_err(|_| conn.timeout_error(self.api))?
            .map_err(|_| conn.closed_error())??;
        let version = self.version;
        let mut r = Reader::new(frame);
        ResponseHeader::decode(&mut r, self.api.response_header_version(version))
            .map_err(|e| conn.decode_error(e.in_message(T::NAME, version)))?;
        let response = T::decode_from(&mut r, version).map_err(|e| conn.decode_error(e))?;
        r.finish("_end")
            .map_err(|e| conn.decode_error(e.in_message(T::NAME, version)))?;
        Ok(response)
    }
}
