//! Readiness probes written with raw bytes over a blocking `TcpStream`.
//!
//! Deliberately independent of kwire's own codec: the test kit must be able to tell
//! whether a broker is up even while the codec under test is broken.
//!
//! References: `ApiVersionsRequest.json`, `MetadataRequest.json` and
//! `MetadataResponse.json` in Kafka's `clients/src/main/resources/common/message/`.
//! Both probes use non-flexible versions (header v1 requests, header v0 responses).
//!
//! Probe failures are plain strings: they are only ever shown to a person, inside the
//! "last probe" part of a startup or topic timeout error.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long one probe may wait to connect, send or receive.
const PROBE_IO_TIMEOUT: Duration = Duration::from_secs(3);

/// Largest response a probe accepts; a Metadata answer for a test cluster is far smaller.
const MAX_RESPONSE: usize = 16 * 1024 * 1024;

/// ApiVersions v0: size 12, api_key 18, version 0, correlation id 1, client id "rk".
const API_VERSIONS_V0: [u8; 16] = [
    0x00, 0x00, 0x00, 0x0c, 0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, b'r', b'k',
];

/// Correlation id of the Metadata probe.
const METADATA_CORRELATION: i32 = 2;

/// A broker as listed in a Metadata response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BrokerInfo {
    pub(crate) node_id: i32,
    pub(crate) host: String,
    pub(crate) port: i32,
}

/// A partition as listed in a Metadata response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartitionInfo {
    pub(crate) error_code: i16,
    pub(crate) partition_index: i32,
    pub(crate) leader_id: i32,
}

/// A topic as listed in a Metadata response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopicInfo {
    pub(crate) error_code: i16,
    pub(crate) name: String,
    pub(crate) partitions: Vec<PartitionInfo>,
}

/// The parts of a Metadata v4 response the test kit looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Metadata {
    pub(crate) brokers: Vec<BrokerInfo>,
    pub(crate) topics: Vec<TopicInfo>,
}

/// Sends ApiVersions v0 and checks that the answer carries error code 0.
pub(crate) fn api_versions(addr: &str) -> Result<(), String> {
    let body = exchange(addr, &API_VERSIONS_V0, 1)?;
    let mut reader = Reader::new(&body);
    match reader.i16()? {
        0 => Ok(()),
        code => Err(format!("ApiVersions answered with error code {code}")),
    }
}

/// Sends Metadata v4 for `topic` (or for no topic, to list brokers only).
///
/// v4 is the first version with `AllowAutoTopicCreation`, sent as false so that a probe
/// never creates a topic as a side effect.
pub(crate) fn metadata(addr: &str, topic: Option<&str>) -> Result<Metadata, String> {
    let mut frame = vec![0, 0, 0, 0];
    frame.extend_from_slice(&3i16.to_be_bytes()); // api key: Metadata
    frame.extend_from_slice(&4i16.to_be_bytes()); // api version
    frame.extend_from_slice(&METADATA_CORRELATION.to_be_bytes());
    put_string(&mut frame, "rk")?;
    match topic {
        Some(name) => {
            frame.extend_from_slice(&1i32.to_be_bytes());
            put_string(&mut frame, name)?;
        }
        None => frame.extend_from_slice(&0i32.to_be_bytes()),
    }
    frame.push(0); // allow_auto_topic_creation = false
    let size = i32::try_from(frame.len() - 4).map_err(|_| "request too large".to_owned())?;
    frame[..4].copy_from_slice(&size.to_be_bytes());

    let body = exchange(addr, &frame, METADATA_CORRELATION)?;
    parse_metadata_v4(&body)
}

/// Parses a Metadata v4 response body (after the correlation id).
fn parse_metadata_v4(body: &[u8]) -> Result<Metadata, String> {
    let mut r = Reader::new(body);
    let _throttle_time_ms = r.i32()?;

    let mut brokers = Vec::new();
    for _ in 0..r.count()? {
        let node_id = r.i32()?;
        let host = r.string()?;
        let port = r.i32()?;
        let _rack = r.nullable_string()?;
        brokers.push(BrokerInfo {
            node_id,
            host,
            port,
        });
    }
    let _cluster_id = r.nullable_string()?;
    let _controller_id = r.i32()?;

    let mut topics = Vec::new();
    for _ in 0..r.count()? {
        let error_code = r.i16()?;
        let name = r.string()?;
        let _is_internal = r.bytes(1)?;
        let mut partitions = Vec::new();
        for _ in 0..r.count()? {
            let error_code = r.i16()?;
            let partition_index = r.i32()?;
            let leader_id = r.i32()?;
            for _ in 0..2 {
                // replica_nodes, isr_nodes
                let n = r.count()?;
                r.bytes(n * 4)?;
            }
            partitions.push(PartitionInfo {
                error_code,
                partition_index,
                leader_id,
            });
        }
        topics.push(TopicInfo {
            error_code,
            name,
            partitions,
        });
    }

    if r.remaining() != 0 {
        return Err(format!("{} unexpected bytes after Metadata", r.remaining()));
    }
    Ok(Metadata { brokers, topics })
}

/// Writes one request frame and returns the response body after the correlation id.
fn exchange(addr: &str, frame: &[u8], correlation_id: i32) -> Result<Vec<u8>, String> {
    let target = addr
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {addr}: {e}"))?
        .next()
        .ok_or_else(|| format!("{addr} resolves to no address"))?;
    let mut stream = TcpStream::connect_timeout(&target, PROBE_IO_TIMEOUT)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let io_error = |e: std::io::Error| format!("connection to {addr} failed: {e}");
    stream
        .set_read_timeout(Some(PROBE_IO_TIMEOUT))
        .map_err(io_error)?;
    stream
        .set_write_timeout(Some(PROBE_IO_TIMEOUT))
        .map_err(io_error)?;
    stream.write_all(frame).map_err(io_error)?;

    let mut size = [0u8; 4];
    stream.read_exact(&mut size).map_err(io_error)?;
    let size = usize::try_from(i32::from_be_bytes(size))
        .ok()
        .filter(|&size| (4..=MAX_RESPONSE).contains(&size))
        .ok_or_else(|| format!("{addr} sent an impossible response size"))?;
    let mut response = vec![0u8; size];
    stream.read_exact(&mut response).map_err(io_error)?;

    let got = i32::from_be_bytes([response[0], response[1], response[2], response[3]]);
    if got != correlation_id {
        return Err(format!(
            "{addr} answered correlation id {got}, expected {correlation_id}"
        ));
    }
    response.drain(..4);
    Ok(response)
}

/// Appends a non-nullable STRING (INT16 length + UTF-8).
fn put_string(out: &mut Vec<u8>, s: &str) -> Result<(), String> {
    let len = i16::try_from(s.len()).map_err(|_| format!("string too long: {s:?}"))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// A bounds-checked big-endian reader over a response body.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    fn remaining(&self) -> usize {
        self.bytes.len()
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.bytes.len() {
            return Err(format!(
                "response truncated: needed {n} bytes, {} left",
                self.bytes.len()
            ));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn i16(&mut self) -> Result<i16, String> {
        let b = self.bytes(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    fn i32(&mut self) -> Result<i32, String> {
        let b = self.bytes(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// An ARRAY length; null (-1) counts as empty. Bounded by the bytes left, since every
    /// element takes at least one byte.
    fn count(&mut self) -> Result<usize, String> {
        let n = self.i32()?;
        if n < 0 {
            return Ok(0);
        }
        let n = n as usize;
        if n > self.bytes.len() {
            return Err(format!(
                "array of {n} elements in {} bytes",
                self.bytes.len()
            ));
        }
        Ok(n)
    }

    fn string(&mut self) -> Result<String, String> {
        self.nullable_string()?
            .ok_or_else(|| "null where a string is required".to_owned())
    }

    fn nullable_string(&mut self) -> Result<Option<String>, String> {
        let len = self.i16()?;
        if len < 0 {
            return Ok(None);
        }
        let b = self.bytes(len as usize)?;
        String::from_utf8(b.to_vec())
            .map(Some)
            .map_err(|_| "string is not UTF-8".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata_body() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&0i32.to_be_bytes()); // throttle
        b.extend_from_slice(&1i32.to_be_bytes()); // one broker
        b.extend_from_slice(&1i32.to_be_bytes());
        put_string(&mut b, "127.0.0.1").unwrap();
        b.extend_from_slice(&9092i32.to_be_bytes());
        b.extend_from_slice(&(-1i16).to_be_bytes()); // rack null
        put_string(&mut b, "cluster").unwrap();
        b.extend_from_slice(&1i32.to_be_bytes()); // controller
        b.extend_from_slice(&1i32.to_be_bytes()); // one topic
        b.extend_from_slice(&0i16.to_be_bytes());
        put_string(&mut b, "t").unwrap();
        b.push(0);
        b.extend_from_slice(&1i32.to_be_bytes()); // one partition
        b.extend_from_slice(&0i16.to_be_bytes());
        b.extend_from_slice(&0i32.to_be_bytes());
        b.extend_from_slice(&1i32.to_be_bytes()); // leader
        b.extend_from_slice(&1i32.to_be_bytes());
        b.extend_from_slice(&1i32.to_be_bytes()); // replicas [1]
        b.extend_from_slice(&1i32.to_be_bytes());
        b.extend_from_slice(&1i32.to_be_bytes()); // isr [1]
        b
    }

    #[test]
    fn metadata_v4_is_parsed() {
        let metadata = parse_metadata_v4(&metadata_body()).unwrap();
        assert_eq!(metadata.brokers[0].port, 9092);
        assert_eq!(metadata.topics[0].name, "t");
        assert_eq!(metadata.topics[0].partitions[0].leader_id, 1);
    }

    #[test]
    fn leftover_bytes_are_rejected() {
        let mut body = metadata_body();
        body.push(0);
        assert!(parse_metadata_v4(&body).is_err());
    }

    #[test]
    fn a_hostile_array_length_is_rejected_before_allocating() {
        let mut body = 0i32.to_be_bytes().to_vec();
        body.extend_from_slice(&i32::MAX.to_be_bytes());
        assert!(parse_metadata_v4(&body).unwrap_err().contains("array"));
    }

    #[test]
    fn truncated_responses_are_rejected() {
        let body = metadata_body();
        assert!(parse_metadata_v4(&body[..body.len() - 3]).is_err());
    }
}
