//! A scripted peer on a loopback socket, for what a real broker will not do on demand:
//! cut a frame short, answer with the wrong correlation id, answer late or never, die with
//! requests in flight, send a nonsense size prefix.
//!
//! The peer is the test itself: it holds the accepted socket, reads each request frame and
//! writes exactly the bytes the test wants. `Connection::from_stream` skips the ApiVersions
//! negotiation, so every call names its version (Metadata v1, not flexible, header v1/v0).

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use kwire_codec::metadata::{
    MetadataRequest, MetadataResponse, MetadataResponseBroker, MetadataResponseTopic,
};
use kwire_codec::{encode_response_frame, Message, Reader, RequestHeader, ResponseHeader};
use kwire_connection::{Connection, ConnectionConfig, ConnectionError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The Metadata version every call here uses.
const VERSION: i16 = 1;

/// A connection and the peer end of its socket.
async fn connected(config: ConnectionConfig) -> (Connection, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let conn = Connection::from_stream(&addr.to_string(), client.unwrap(), config);
    (conn, accepted.unwrap().0)
}

fn config_with_timeout(request_timeout: Duration) -> ConnectionConfig {
    ConnectionConfig {
        request_timeout,
        ..Default::default()
    }
}

/// A Metadata request whose one topic name marks which request it is.
fn request(marker: &str) -> MetadataRequest {
    MetadataRequest::for_topics(&[marker], false)
}

/// Reads one request frame and checks that it is the Metadata request the client meant.
/// Returns its correlation id and the topic name it asked about.
async fn read_request(peer: &mut TcpStream) -> (i32, String) {
    let size = peer.read_i32().await.expect("request size prefix");
    let mut frame = vec![0; usize::try_from(size).unwrap()];
    peer.read_exact(&mut frame).await.expect("request frame");

    let mut r = Reader::new(Bytes::from(frame));
    let header = RequestHeader::decode(&mut r).unwrap();
    assert_eq!(header.request_api_key, MetadataRequest::API_KEY);
    assert_eq!(header.request_api_version, VERSION);
    let body = MetadataRequest::decode(r.take_rest(), VERSION).unwrap();
    let name = body.topics.unwrap()[0].name.clone().unwrap();
    (header.correlation_id, name)
}

/// A whole Metadata v1 response frame (size prefix included) naming topic `marker`.
fn response(correlation_id: i32, marker: &str) -> Bytes {
    let body = MetadataResponse {
        brokers: vec![MetadataResponseBroker {
            node_id: 1,
            host: "127.0.0.1".to_owned(),
            port: 9092,
            ..Default::default()
        }],
        controller_id: 1,
        topics: vec![MetadataResponseTopic {
            name: Some(marker.to_owned()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let header = ResponseHeader {
        correlation_id,
        ..Default::default()
    };
    let mut buf = BytesMut::new();
    encode_response_frame(&header, &body, VERSION, &mut buf).unwrap();
    buf.freeze()
}

fn topic_of(response: &MetadataResponse) -> &str {
    response.topics[0].name.as_deref().unwrap()
}

/// The reason a `Closed` error carries; panics on any other error.
fn closed_reason(result: Result<MetadataResponse, ConnectionError>) -> String {
    match result {
        Err(ConnectionError::Closed {
            reason: Some(reason),
            ..
        }) => reason,
        other => panic!("expected Closed with a reason, got {other:?}"),
    }
}

#[tokio::test]
async fn a_well_formed_response_reaches_its_caller() {
    let (conn, mut peer) = connected(ConnectionConfig::default()).await;

    let call = tokio::spawn({
        let conn = conn.clone();
        async move { conn.call_at(VERSION, &request("hello")).await }
    });
    let (correlation_id, name) = read_request(&mut peer).await;
    assert_eq!(name, "hello");
    peer.write_all(&response(correlation_id, "hello"))
        .await
        .unwrap();

    let got = call.await.unwrap().expect("response");
    assert_eq!(topic_of(&got), "hello");
    assert_eq!(got.brokers[0].port, 9092);
    assert!(!conn.is_closed());
}

#[tokio::test]
async fn a_truncated_response_frame_then_close_fails_the_call_and_every_later_call() {
    let (conn, mut peer) = connected(ConnectionConfig::default()).await;

    let call = tokio::spawn({
        let conn = conn.clone();
        async move { conn.call_at(VERSION, &request("cut-short")).await }
    });
    let (correlation_id, _) = read_request(&mut peer).await;
    let whole = response(correlation_id, "cut-short");
    peer.write_all(&whole[..whole.len() - 5]).await.unwrap();
    drop(peer);

    let reason = closed_reason(call.await.unwrap());
    assert!(reason.contains("in the middle of a frame"), "{reason}");
    assert!(conn.is_closed());

    let started = Instant::now();
    let later = conn.call_at(VERSION, &request("after")).await;
    assert_eq!(
        closed_reason(later),
        reason,
        "later calls give the same reason"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "and fail at once"
    );
}

#[tokio::test]
async fn a_response_with_the_wrong_correlation_id_fails_and_closes_the_connection() {
    let (conn, mut peer) = connected(ConnectionConfig::default()).await;

    let call = tokio::spawn({
        let conn = conn.clone();
        async move { conn.call_at(VERSION, &request("mismatch")).await }
    });
    let (correlation_id, _) = read_request(&mut peer).await;
    peer.write_all(&response(correlation_id + 7, "mismatch"))
        .await
        .unwrap();

    match call.await.unwrap() {
        Err(ConnectionError::CorrelationMismatch { expected, got, .. }) => {
            assert_eq!(expected, correlation_id);
            assert_eq!(got, correlation_id + 7);
        }
        other => panic!("expected CorrelationMismatch, got {other:?}"),
    }
    assert!(conn.is_closed());
    let reason = closed_reason(conn.call_at(VERSION, &request("after")).await);
    assert!(reason.contains("correlation id"), "{reason}");
}

#[tokio::test]
async fn a_response_that_never_comes_times_out_after_the_request_timeout() {
    let timeout = Duration::from_millis(300);
    let (conn, mut peer) = connected(config_with_timeout(timeout)).await;

    let started = Instant::now();
    let call = tokio::spawn({
        let conn = conn.clone();
        async move { conn.call_at(VERSION, &request("silence")).await }
    });
    let (_, name) = read_request(&mut peer).await;
    assert_eq!(name, "silence", "the request did reach the peer");

    match call.await.unwrap() {
        Err(ConnectionError::Timeout { api, after, .. }) => {
            assert_eq!(api, "Metadata");
            assert_eq!(after, timeout);
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    let waited = started.elapsed();
    assert!(
        waited >= timeout,
        "gave up after {waited:?}, before {timeout:?}"
    );
    assert!(waited < timeout * 5, "gave up only after {waited:?}");
    // A timeout fails one request; the connection stays open for the others.
    assert!(!conn.is_closed());
}

#[tokio::test]
async fn a_dead_connection_fails_every_in_flight_request() {
    let (conn, mut peer) = connected(ConnectionConfig::default()).await;

    let mut futures = Vec::new();
    for marker in ["one", "two", "three"] {
        futures.push(conn.start_call(VERSION, &request(marker)).await.unwrap());
    }
    let mut ids = Vec::new();
    for marker in ["one", "two", "three"] {
        let (correlation_id, name) = read_request(&mut peer).await;
        assert_eq!(name, marker, "requests reach the socket in order");
        ids.push(correlation_id);
    }
    // Answer the first, then die with two requests in flight.
    peer.write_all(&response(ids[0], "one")).await.unwrap();
    drop(peer);

    let mut results = Vec::new();
    for f in futures {
        results.push(f.wait().await);
    }
    let first = results.remove(0).expect("the answered request succeeds");
    assert_eq!(topic_of(&first), "one");
    for result in results {
        let reason = closed_reason(result);
        assert_eq!(reason, "closed by the broker");
    }
    assert!(conn.is_closed());
    closed_reason(conn.call_at(VERSION, &request("after")).await);
}

#[tokio::test]
async fn a_late_response_is_not_given_to_the_next_request() {
    let timeout = Duration::from_millis(300);
    let (conn, mut peer) = connected(config_with_timeout(timeout)).await;

    let first = conn.call_at(VERSION, &request("first")).await;
    assert!(
        matches!(first, Err(ConnectionError::Timeout { .. })),
        "{first:?}"
    );
    let (first_id, _) = read_request(&mut peer).await;

    let second = conn.start_call(VERSION, &request("second")).await.unwrap();
    let (second_id, name) = read_request(&mut peer).await;
    assert_eq!(name, "second");
    // Kafka answers in order: the late answer to the first request comes first.
    peer.write_all(&response(first_id, "first")).await.unwrap();
    peer.write_all(&response(second_id, "second"))
        .await
        .unwrap();

    let got = second
        .wait()
        .await
        .expect("the second request's own response");
    assert_eq!(topic_of(&got), "second");
    assert!(
        !conn.is_closed(),
        "an in-order late response is simply dropped"
    );
}

#[tokio::test]
async fn a_response_that_skips_a_timed_out_request_is_not_given_to_the_next_one() {
    let timeout = Duration::from_millis(300);
    let (conn, mut peer) = connected(config_with_timeout(timeout)).await;

    let first = conn.call_at(VERSION, &request("first")).await;
    assert!(
        matches!(first, Err(ConnectionError::Timeout { .. })),
        "{first:?}"
    );
    let _ = read_request(&mut peer).await;

    let second = conn.start_call(VERSION, &request("second")).await.unwrap();
    let (second_id, _) = read_request(&mut peer).await;
    // Out of order: the first request is never answered. The stream is out of step, so the
    // connection closes rather than guess; the second caller gets an error, not a response
    // that it cannot tell apart from someone else's.
    peer.write_all(&response(second_id, "second"))
        .await
        .unwrap();

    let reason = closed_reason(second.wait().await);
    assert!(reason.contains("does not match"), "{reason}");
    assert!(conn.is_closed());
}

#[tokio::test]
async fn a_negative_size_prefix_closes_the_connection_with_a_clear_error() {
    let (conn, mut peer) = connected(ConnectionConfig::default()).await;

    let call = tokio::spawn({
        let conn = conn.clone();
        async move { conn.call_at(VERSION, &request("negative")).await }
    });
    let _ = read_request(&mut peer).await;
    peer.write_all(&(-2i32).to_be_bytes()).await.unwrap();

    let reason = closed_reason(call.await.unwrap());
    assert!(reason.starts_with("bad response frame"), "{reason}");
    assert!(reason.contains("frame_size"), "{reason}");
    assert!(reason.contains("invalid length -2"), "{reason}");
    assert!(conn.is_closed());
}

#[tokio::test]
async fn a_size_prefix_above_max_response_size_closes_the_connection_with_a_clear_error() {
    let config = ConnectionConfig {
        max_response_size: 4096,
        ..Default::default()
    };
    let (conn, mut peer) = connected(config).await;

    let started = Instant::now();
    let call = tokio::spawn({
        let conn = conn.clone();
        async move { conn.call_at(VERSION, &request("huge")).await }
    });
    let (correlation_id, _) = read_request(&mut peer).await;
    // Claims one byte more than allowed, then starts a plausible frame and stops.
    peer.write_all(&4097i32.to_be_bytes()).await.unwrap();
    peer.write_all(&correlation_id.to_be_bytes()).await.unwrap();

    let reason = closed_reason(call.await.unwrap());
    assert!(reason.starts_with("bad response frame"), "{reason}");
    assert!(reason.contains("invalid length 4097"), "{reason}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused at the prefix, without waiting for the claimed bytes"
    );
    assert!(conn.is_closed());
}

#[tokio::test]
async fn a_request_without_response_is_written_in_full_when_the_call_returns() {
    let (conn, mut peer) = connected(ConnectionConfig::default()).await;
    // Large enough (about 700 KB) that writing it takes several rounds of the peer reading.
    let names: Vec<String> = (0..50_000).map(|i| format!("topic-{i:06}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let peer_reads = tokio::spawn(async move {
        let size = peer.read_i32().await.expect("request size prefix");
        let mut frame = vec![0; usize::try_from(size).unwrap()];
        peer.read_exact(&mut frame)
            .await
            .expect("the whole request frame");
        let mut r = Reader::new(Bytes::from(frame));
        RequestHeader::decode(&mut r).unwrap();
        let body = MetadataRequest::decode(r.take_rest(), VERSION).unwrap();
        body.topics.unwrap().len()
    });

    conn.send_without_response(VERSION, &MetadataRequest::for_topics(&names, false))
        .await
        .expect("written");
    // Dropping the last handle stops the connection's tasks; what was written must still
    // arrive (acks=0 records were lost this way when the call returned on queueing).
    drop(conn);

    assert_eq!(peer_reads.await.unwrap(), 50_000);
}

#[tokio::test]
async fn a_request_without_response_not_written_in_time_fails_and_closes_the_connection() {
    let (conn, mut peer) = connected(config_with_timeout(Duration::from_millis(300))).await;
    // Far more than the loopback socket buffers hold, to a peer that does not read.
    let names: Vec<String> = (0..1_500_000).map(|i| format!("topic-{i:07}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();

    let result = conn
        .send_without_response(VERSION, &MetadataRequest::for_topics(&names, false))
        .await;
    assert!(
        matches!(result, Err(ConnectionError::Timeout { .. })),
        "{result:?}"
    );
    // Closed, so what is left of the frame never reaches the peer after the caller was told
    // it failed (a retry would otherwise be a duplicate).
    assert!(conn.is_closed());
    let size = peer
        .read_i32()
        .await
        .expect("the start of the frame was written");
    let mut frame = vec![0; usize::try_from(size).unwrap()];
    assert!(
        peer.read_exact(&mut frame).await.is_err(),
        "the frame was cut off"
    );
}
