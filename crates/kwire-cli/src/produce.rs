//! `kwire produce`: JSON lines in, records out, and a summary of where they landed.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;

use bytes::Bytes;
use kwire_producer::{DeliveryFuture, Producer, ProducerError, Record};
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use crate::Failure;

/// Deliveries awaited at most this far behind the line being read, which bounds the memory
/// held for outstanding futures (the producer's buffer bounds the bytes).
const WINDOW: usize = 50_000;

/// What happened to one partition.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PartitionSummary {
    /// The partition.
    pub partition: i32,
    /// Records that landed there.
    pub records: u64,
    /// Value bytes of those records.
    pub bytes: u64,
    /// Lowest offset written (-1 with acks=0).
    pub first_offset: i64,
    /// Highest offset written (-1 with acks=0).
    pub last_offset: i64,
}

/// What `produce` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// The topic.
    pub topic: String,
    /// Records the broker acknowledged.
    pub records: u64,
    /// Value bytes of those records.
    pub bytes: u64,
    /// Lines that were not valid JSON, skipped.
    pub rejected: u64,
    /// Valid lines whose record was not delivered.
    pub failed: u64,
    /// Per partition, in partition order.
    pub partitions: Vec<PartitionSummary>,
}

impl Summary {
    fn record(
        &mut self,
        partition: i32,
        offset: i64,
        bytes: u64,
        by_partition: &mut BTreeMap<i32, PartitionSummary>,
    ) {
        self.records += 1;
        self.bytes += bytes;
        let p = by_partition.entry(partition).or_insert(PartitionSummary {
            partition,
            first_offset: offset,
            last_offset: offset,
            ..Default::default()
        });
        p.records += 1;
        p.bytes += bytes;
        p.first_offset = p.first_offset.min(offset);
        p.last_offset = p.last_offset.max(offset);
    }

    /// The summary as text, for people.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "sent {} ({}) to topic `{}`",
            plural(self.records, "record", "records"),
            plural(self.bytes, "byte", "bytes"),
            self.topic
        );
        if self.rejected > 0 {
            out.push_str(&format!(
                "; {} rejected",
                plural(self.rejected, "line", "lines")
            ));
        }
        if self.failed > 0 {
            out.push_str(&format!(
                "; {} failed",
                plural(self.failed, "record", "records")
            ));
        }
        out.push('\n');
        if !self.partitions.is_empty() {
            out.push_str(&format!(
                "{:>9} {:>9} {:>12} {:>7} {:>12} {:>12}\n",
                "partition", "records", "bytes", "share", "first offset", "last offset"
            ));
            for p in &self.partitions {
                let share = if self.bytes == 0 {
                    0.0
                } else {
                    100.0 * p.bytes as f64 / self.bytes as f64
                };
                out.push_str(&format!(
                    "{:>9} {:>9} {:>12} {:>6.1}% {:>12} {:>12}\n",
                    p.partition, p.records, p.bytes, share, p.first_offset, p.last_offset
                ));
            }
        }
        out
    }
}

/// Where the lines come from.
#[derive(Debug, Clone)]
pub enum Input {
    /// Standard input.
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Input {
    /// `-` or nothing means standard input.
    pub fn from_arg(arg: Option<PathBuf>) -> Input {
        match arg {
            None => Input::Stdin,
            Some(p) if p.as_os_str() == "-" => Input::Stdin,
            Some(p) => Input::File(p),
        }
    }

    /// How errors name the input.
    fn describe(&self) -> String {
        match self {
            Input::Stdin => "standard input".to_owned(),
            Input::File(path) => format!("`{}`", path.display()),
        }
    }

    async fn open(&self) -> Result<Box<dyn AsyncRead + Unpin + Send>, Failure> {
        match self {
            Input::Stdin => Ok(Box::new(tokio::io::stdin())),
            Input::File(path) => tokio::fs::File::open(path)
                .await
                .map(|f| Box::new(f) as Box<dyn AsyncRead + Unpin + Send>)
                .map_err(|e| Failure::fatal(format!("cannot open `{}`: {e}", path.display()))),
        }
    }
}

/// Strips a trailing `\n` or `\r\n`.
fn strip_line_ending(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Why a line is not one JSON document, or `None` if it is. JSON text is UTF-8 (RFC 8259),
/// which is checked first: skipping over a string does not check its bytes.
pub fn json_error(line: &[u8]) -> Option<String> {
    if let Err(e) = std::str::from_utf8(line) {
        return Some(format!(
            "not UTF-8 text (invalid byte at column {})",
            e.valid_up_to() + 1
        ));
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(line)
        .err()
        .map(|e| e.to_string().replace(" at line 1 column ", " at column "))
}

/// "1 line", "2 lines".
fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Sends every valid line of `input` to `topic` and reports per partition where they landed.
/// Invalid lines are reported on stderr as `line N: reason` and skipped.
pub async fn produce(producer: &Producer, topic: &str, input: &Input) -> Result<Summary, Failure> {
    // Fail fast, with one sentence, on an unknown topic.
    producer
        .cluster()
        .topic(topic)
        .await
        .map_err(|e| Failure::fatal(e.to_string()))?;
    let mut reader = BufReader::with_capacity(256 * 1024, input.open().await?);
    let mut summary = Summary {
        topic: topic.to_owned(),
        ..Default::default()
    };
    let mut by_partition = BTreeMap::new();
    let mut outstanding: VecDeque<(u64, u64, DeliveryFuture)> = VecDeque::new();
    let mut line_no = 0u64;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .await
            .map_err(|e| Failure::fatal(format!("cannot read {}: {e}", input.describe())))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let line = strip_line_ending(&buf);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Some(reason) = json_error(line) {
            eprintln!("line {line_no}: {reason}");
            summary.rejected += 1;
            continue;
        }
        let value = Bytes::copy_from_slice(line);
        let len = value.len() as u64;
        let delivery = match producer.send(topic, Record::value(value)).await {
            Ok(d) => d,
            // A record that cannot be sent on its own is reported like a bad line; what
            // the cluster refuses as a whole stops the run.
            Err(e @ (ProducerError::RecordTooLarge { .. } | ProducerError::Encode(_))) => {
                eprintln!("line {line_no}: not sent: {e}");
                summary.failed += 1;
                continue;
            }
            Err(e) => return Err(Failure::fatal(format!("line {line_no}: {e}"))),
        };
        outstanding.push_back((line_no, len, delivery));
        if outstanding.len() >= WINDOW {
            let (no, len, d) = outstanding.pop_front().expect("not empty");
            settle(no, len, d.await, &mut summary, &mut by_partition);
        }
    }
    for (no, len, d) in outstanding {
        settle(no, len, d.await, &mut summary, &mut by_partition);
    }
    summary.partitions = by_partition.into_values().collect();
    Ok(summary)
}

fn settle(
    line_no: u64,
    len: u64,
    result: Result<kwire_producer::Delivery, kwire_producer::ProducerError>,
    summary: &mut Summary,
    by_partition: &mut BTreeMap<i32, PartitionSummary>,
) {
    match result {
        Ok(d) => summary.record(d.partition, d.offset, len, by_partition),
        Err(e) => {
            eprintln!("line {line_no}: not delivered: {e}");
            summary.failed += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_are_stripped_but_nothing_else() {
        assert_eq!(strip_line_ending(b"{}\r\n"), b"{}");
        assert_eq!(strip_line_ending(b"{} \n"), b"{} ");
        assert_eq!(strip_line_ending(b"{}"), b"{}");
    }

    #[test]
    fn json_errors_name_the_problem() {
        assert_eq!(json_error(b"{\"a\": 1}"), None);
        assert_eq!(json_error(b"42"), None);
        let e = json_error(b"{\"a\": }").unwrap();
        assert_eq!(e, "expected value at column 7");
        assert_eq!(
            json_error(b"{\"a\":\"\xff\"}").unwrap(),
            "not UTF-8 text (invalid byte at column 7)"
        );
        assert!(json_error(b"{} {}")
            .unwrap()
            .contains("trailing characters"));
    }

    #[test]
    fn the_summary_tracks_first_and_last_offsets_per_partition() {
        let mut s = Summary::default();
        let mut by = BTreeMap::new();
        s.record(1, 5, 10, &mut by);
        s.record(1, 3, 20, &mut by);
        s.record(0, 0, 1, &mut by);
        assert_eq!((s.records, s.bytes), (3, 31));
        let p1 = &by[&1];
        assert_eq!(
            (p1.records, p1.bytes, p1.first_offset, p1.last_offset),
            (2, 30, 3, 5)
        );
    }
}
