//! Reading a topic back with Kafka's own console consumer, as an independent witness of
//! what a producer under test really wrote.
//!
//! `DefaultMessageFormatter` (Kafka 4.4, `tools/.../consumer/DefaultMessageFormatter.java`)
//! prints, per record and with the properties used here:
//!
//! ```text
//! Partition:P <US> Offset:O <US> HEADERS <US> KEY <US> VALUE <RS> \n
//! ```
//!
//! where `<US>` is 0x1F (`key.separator`, also used between columns) and `<RS>\n` is 0x1E
//! then a newline (`line.separator`). Keys, values and header values are written as raw
//! bytes, and a null one as the `null.literal` `ESC NULL ESC`, so null and empty differ.
//! HEADERS is `NO_HEADERS` or `key:value` pairs joined by 0x1D (`headers.separator`); a
//! real header always contains a colon, so it cannot be mistaken for `NO_HEADERS`.
//!
//! # Limitations
//!
//! Keys and header keys must not contain 0x1F, 0x1D or (header keys) a colon, and values
//! must not contain 0x1E followed by a newline. JSON text never contains raw control
//! characters, so test data in this project always qualifies.

use std::io::BufRead;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::fetch::KafkaHome;
use crate::process::{self, Output, Supervised};
use crate::{jvm, TestkitError};

/// Column separator (`key.separator`).
const FIELD: u8 = 0x1f;
/// End of one record (`line.separator`).
const END: &[u8] = b"\x1e\n";
/// Separator between headers (`headers.separator`).
const HEADER: u8 = 0x1d;
/// What a null key, value or header value prints as (`null.literal`).
const NULL: &[u8] = b"\x1bNULL\x1b";

/// How long the consumer may take to exit once its output has ended.
const EXIT_GRACE: Duration = Duration::from_secs(10);

/// Name used in errors.
const TOOL: &str = "Kafka's ConsoleConsumer";

/// One record as the independent consumer saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumedRecord {
    /// Partition the record is in.
    pub partition: i32,
    /// Its offset in that partition.
    pub offset: i64,
    /// Its key; `None` for a null key, `Some(vec![])` for an empty one.
    pub key: Option<Vec<u8>>,
    /// Its value; `None` for a null value (a tombstone), `Some(vec![])` for an empty one.
    pub value: Option<Vec<u8>>,
    /// Its headers in order, duplicates kept; a header value may be null.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// Runs the console consumer from the beginning of `topic` until `expected` records have
/// arrived or `timeout` passes, and returns them sorted by (partition, offset).
pub(crate) fn consume(
    home: &KafkaHome,
    bootstrap: &str,
    topic: &str,
    expected: usize,
    timeout: Duration,
) -> Result<Vec<ConsumedRecord>, TestkitError> {
    if expected == 0 {
        return Ok(Vec::new());
    }
    let deadline = Instant::now() + timeout;
    let timeout_ms = timeout.as_millis().max(1).to_string();
    let mut program = jvm::tool_program(
        TOOL,
        home,
        "org.apache.kafka.tools.consumer.ConsoleConsumer",
    )?
    .args([
        "--bootstrap-server",
        bootstrap,
        "--topic",
        topic,
        "--from-beginning",
    ])
    .args(["--timeout-ms", &timeout_ms])
    .args(["--command-property", "allow.auto.create.topics=false"]);
    for property in formatter_properties() {
        program = program.arg("--formatter-property").arg(property);
    }

    let (mut child, pipes) = Supervised::spawn(&program, Output::Piped)?;
    let pipes = pipes.expect("output is piped");
    let stderr = process::drain(pipes.stderr);
    let (sender, records) = mpsc::channel();
    let mut stdout = pipes.stdout;
    thread::spawn(move || {
        let mut line = Vec::new();
        loop {
            match stdout.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if !line.ends_with(END) => continue,
                Ok(_) => {
                    let record = parse_record(&line[..line.len() - END.len()]);
                    line.clear();
                    if sender.send(record).is_err() {
                        return;
                    }
                }
            }
        }
    });

    let mut consumed = Vec::with_capacity(expected.min(100_000));
    let mut ended = false;
    while consumed.len() < expected {
        let left = deadline.saturating_duration_since(Instant::now());
        match records.recv_timeout(left) {
            Ok(record) => consumed.push(record?),
            Err(mpsc::RecvTimeoutError::Timeout) => break,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                ended = true;
                break;
            }
        }
    }

    // The consumer ends by itself after `--timeout-ms` without records, or on an error.
    let status = if ended {
        child.wait_until(Instant::now() + EXIT_GRACE)
    } else {
        None
    };
    child.stop();
    if let Some(status) = status.filter(|s| !s.success()) {
        let stderr = String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned();
        return Err(TestkitError::ToolFailed {
            tool: TOOL.to_owned(),
            status: process::describe_status(status),
            output: process::tail_lines(&stderr, 30),
        });
    }

    consumed.sort_by_key(|r| (r.partition, r.offset));
    Ok(consumed)
}

/// The `--formatter-property` values that produce the format parsed here.
fn formatter_properties() -> Vec<String> {
    let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).expect("separators are ASCII");
    vec![
        "print.partition=true".to_owned(),
        "print.offset=true".to_owned(),
        "print.headers=true".to_owned(),
        "print.key=true".to_owned(),
        "print.value=true".to_owned(),
        "print.timestamp=false".to_owned(),
        format!("key.separator={}", text(&[FIELD])),
        format!("line.separator={}", text(END)),
        format!("headers.separator={}", text(&[HEADER])),
        format!("null.literal={}", text(NULL)),
    ]
}

/// Parses one record printed by the formatter, without its line separator.
fn parse_record(line: &[u8]) -> Result<ConsumedRecord, TestkitError> {
    let bad = |reason: &str| TestkitError::UnexpectedOutput {
        tool: TOOL.to_owned(),
        reason: reason.to_owned(),
        line: String::from_utf8_lossy(line).into_owned(),
    };

    // The value is last and may contain anything, so split off at most five fields.
    let mut fields = line.splitn(5, |&b| b == FIELD);
    let mut next = |what: &str| {
        fields
            .next()
            .ok_or_else(|| bad(&format!("no {what} column")))
    };
    let partition =
        number(next("partition")?, b"Partition:").ok_or_else(|| bad("bad partition"))?;
    let offset = number(next("offset")?, b"Offset:").ok_or_else(|| bad("bad offset"))?;
    let headers = parse_headers(next("headers")?).ok_or_else(|| bad("bad headers"))?;
    let key = nullable(next("key")?);
    let value = nullable(next("value")?);

    Ok(ConsumedRecord {
        partition,
        offset,
        key,
        value,
        headers,
    })
}

/// Parses `PREFIX<decimal>`.
fn number<T: std::str::FromStr>(field: &[u8], prefix: &[u8]) -> Option<T> {
    std::str::from_utf8(field.strip_prefix(prefix)?)
        .ok()?
        .parse()
        .ok()
}

/// The bytes of a key or value column, or `None` for the null literal.
fn nullable(field: &[u8]) -> Option<Vec<u8>> {
    (field != NULL).then(|| field.to_vec())
}

/// Parses `NO_HEADERS` or `k:v<GS>k:v...`.
fn parse_headers(field: &[u8]) -> Option<Vec<(String, Option<Vec<u8>>)>> {
    if field == b"NO_HEADERS" {
        return Some(Vec::new());
    }
    field
        .split(|&b| b == HEADER)
        .map(|pair| {
            let colon = pair.iter().position(|&b| b == b':')?;
            let key = String::from_utf8(pair[..colon].to_vec()).ok()?;
            Some((key, nullable(&pair[colon + 1..])))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(parts: &[&[u8]]) -> Vec<u8> {
        parts.join(&FIELD)
    }

    #[test]
    fn null_and_empty_keys_and_values_are_told_apart() {
        let r = parse_record(&line(&[
            b"Partition:2",
            b"Offset:7",
            b"NO_HEADERS",
            NULL,
            b"",
        ]))
        .unwrap();
        assert_eq!((r.partition, r.offset), (2, 7));
        assert_eq!(r.key, None);
        assert_eq!(r.value, Some(Vec::new()));
        assert!(r.headers.is_empty());

        let r = parse_record(&line(&[
            b"Partition:0",
            b"Offset:0",
            b"NO_HEADERS",
            b"",
            NULL,
        ]))
        .unwrap();
        assert_eq!(r.key, Some(Vec::new()));
        assert_eq!(r.value, None);
    }

    #[test]
    fn headers_keep_order_duplicates_and_null_values() {
        let headers = [&b"a:1"[..], b"a:", b"b:x:y", &[b"n:", NULL].concat()].join(&HEADER);
        let r = parse_record(&line(&[b"Partition:0", b"Offset:1", &headers, b"k", b"{}"])).unwrap();
        assert_eq!(
            r.headers,
            vec![
                ("a".to_owned(), Some(b"1".to_vec())),
                ("a".to_owned(), Some(Vec::new())),
                ("b".to_owned(), Some(b"x:y".to_vec())),
                ("n".to_owned(), None),
            ]
        );
    }

    #[test]
    fn a_value_may_contain_the_column_separator() {
        let r = parse_record(&line(&[
            b"Partition:0",
            b"Offset:1",
            b"NO_HEADERS",
            b"k",
            b"a",
            b"b",
        ]))
        .unwrap();
        assert_eq!(r.value, Some(b"a\x1fb".to_vec()));
    }

    #[test]
    fn malformed_lines_are_errors() {
        assert!(parse_record(b"hello").is_err());
        assert!(parse_record(&line(&[
            b"Partition:x",
            b"Offset:1",
            b"NO_HEADERS",
            b"k",
            b"v"
        ]))
        .is_err());
        assert!(parse_record(&line(&[
            b"Partition:0",
            b"Offset:1",
            b"nocolon",
            b"k",
            b"v"
        ]))
        .is_err());
    }
}
