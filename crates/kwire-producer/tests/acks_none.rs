//! acks=0 against scripted brokers: a broker that stops reading must not hold up the
//! records for another broker (the writes are waited for off the sender loop).
//!
//! Two fake brokers on loopback answer ApiVersions and Metadata (topic `t`, partition 0 led
//! by broker 1, partition 1 by broker 2) and read Produce requests, which acks=0 leaves
//! unanswered. Broker 1 stops reading at its first Produce request.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kwire_codec::api_versions::{ApiVersion, ApiVersionsResponse};
use kwire_codec::metadata::{
    MetadataResponse, MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kwire_codec::{encode_response_frame, ApiKey, Reader, RequestHeader, ResponseHeader};
use kwire_producer::{Acks, Producer, ProducerConfig, Record};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Serves one client connection as broker `node` (1 or 2) of the two on `ports`.
async fn serve(mut socket: TcpStream, node: i32, ports: [u16; 2], produced: Arc<AtomicUsize>) {
    loop {
        let Ok(size) = socket.read_i32().await else {
            return;
        };
        let mut frame = vec![0; usize::try_from(size).unwrap()];
        if socket.read_exact(&mut frame).await.is_err() {
            return;
        }
        let mut r = Reader::new(Bytes::from(frame));
        let request = RequestHeader::decode(&mut r).unwrap();
        let header = ResponseHeader {
            correlation_id: request.correlation_id,
            ..Default::default()
        };
        let version = request.request_api_version;
        let mut out = BytesMut::new();
        match ApiKey::from_code(request.request_api_key) {
            Some(ApiKey::ApiVersions) => {
                let range = |api: ApiKey, min, max| ApiVersion {
                    api_key: api.code(),
                    min_version: min,
                    max_version: max,
                    ..Default::default()
                };
                let body = ApiVersionsResponse {
                    api_keys: vec![
                        range(ApiKey::ApiVersions, 0, 3),
                        range(ApiKey::Metadata, 0, 9),
                        range(ApiKey::Produce, 3, 9),
                    ],
                    ..Default::default()
                };
                encode_response_frame(&header, &body, version.min(3), &mut out).unwrap();
            }
            Some(ApiKey::Metadata) => {
                let body = MetadataResponse {
                    brokers: (0..2)
                        .map(|i| MetadataResponseBroker {
                            node_id: i + 1,
                            host: "127.0.0.1".to_owned(),
                            port: i32::from(ports[i as usize]),
                            ..Default::default()
                        })
                        .collect(),
                    controller_id: 1,
                    topics: vec![MetadataResponseTopic {
                        name: Some("t".to_owned()),
                        partitions: (0..2)
                            .map(|p| MetadataResponsePartition {
                                partition_index: p,
                                leader_id: p + 1,
                                replica_nodes: vec![p + 1],
                                isr_nodes: vec![p + 1],
                                ..Default::default()
                            })
                            .collect(),
                        ..Default::default()
                    }],
                    ..Default::default()
                };
                encode_response_frame(&header, &body, version, &mut out).unwrap();
            }
            Some(ApiKey::Produce) => {
                produced.fetch_add(1, Ordering::SeqCst);
                if node == 1 {
                    // An overloaded broker, or a path that black-holes: it stops reading.
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
                continue;
            }
            other => panic!("unexpected request {other:?}"),
        }
        socket.write_all(&out).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_stops_reading_does_not_hold_up_acks_none_records_for_another() {
    let listeners = [
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
    ];
    let ports = listeners.each_ref().map(|l| l.local_addr().unwrap().port());
    let produced = [Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0))];
    for (i, listener) in listeners.into_iter().enumerate() {
        let produced = produced[i].clone();
        tokio::spawn(async move {
            loop {
                let (socket, _) = listener.accept().await.unwrap();
                tokio::spawn(serve(socket, i as i32 + 1, ports, produced.clone()));
            }
        });
    }

    let mut config = ProducerConfig::new([format!("127.0.0.1:{}", ports[1])]);
    config.acks = Acks::None;
    config.linger = Duration::ZERO;
    config.request_timeout = Duration::from_secs(60);
    let producer = Producer::connect(config).await.expect("connect");

    // Enough for broker 1 that its socket fills once it stops reading.
    let mut stalled = Vec::new();
    for _ in 0..40 {
        let record = Record {
            partition: Some(0),
            ..Record::value(vec![1u8; 900_000])
        };
        stalled.push(producer.send("t", record).await.expect("queued"));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Before the fix this waited for broker 1's request timeout (60 s here).
    let record = Record {
        partition: Some(1),
        ..Record::value(&b"hello"[..])
    };
    let delivery = producer.send("t", record).await.expect("queued");
    let delivered = tokio::time::timeout(Duration::from_secs(20), delivery)
        .await
        .expect("delivered long before broker 1's request timeout")
        .expect("delivered");
    assert_eq!(delivered.partition, 1);
    assert_eq!(delivered.offset, -1);
    // Broker 1 did get a Produce request (and stopped reading there); broker 2 reads the
    // record it was written.
    assert!(produced[0].load(Ordering::SeqCst) >= 1);
    for _ in 0..100 {
        if produced[1].load(Ordering::SeqCst) >= 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("broker 2 never read a Produce request");
}
