//! `kwire decode` and `kwire encode`: protocol bytes to JSON and back, for people who study
//! the protocol, write fixtures or chase a broker's complaint.
//!
//! The JSON is the codec's own (see the `# JSON` section of `kwire_codec`): field names from
//! the Kafka schemas, bytes and UUIDs as hex, error codes as numbers. A frame is wrapped as
//! `{"api", "api_key", "version", "header", "body"}`; batches as `{"batches": [...]}`, each
//! batch with a `crc_valid` member in front of its fields.
//!
//! Decoding then encoding gives back the input bytes exactly, with two documented
//! exceptions: `encode` always writes a request or response frame with its 4-byte size
//! prefix (which `decode` accepts but does not require), and it computes each batch's CRC,
//! so a batch decoded with `crc_valid: false` comes back with the correct one.
//!
//! A decoding failure is one line that names the message, the field and the byte offset in
//! the whole input (size prefix included); a JSON failure is serde_json's message with its
//! line and column.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bytes::{Bytes, BytesMut};
use clap::{Args, Subcommand};
use kwire_codec::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use kwire_codec::metadata::{MetadataRequest, MetadataResponse};
use kwire_codec::produce::{ProduceRequest, ProduceResponse};
use kwire_codec::record::{CrcCheck, RecordBatch};
use kwire_codec::{
    encode_request_frame, encode_response_frame, hex, parse_hex, ApiKey, DecodeError,
    DecodeErrorKind, Message, Reader, RequestHeader, ResponseHeader,
};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};

use crate::Failure;

/// Where `decode` reads its bytes.
#[derive(Args)]
pub struct BytesInput {
    /// File holding the raw bytes; `-` or nothing for standard input.
    file: Option<PathBuf>,
    /// The bytes as hex instead (white space and `:` are ignored).
    #[arg(long, conflicts_with = "file")]
    hex: Option<String>,
    /// Indent the JSON.
    #[arg(long)]
    pretty: bool,
}

/// What `decode` reads.
#[derive(Subcommand)]
pub enum DecodeCommand {
    /// A request frame (4-byte size prefix optional); its header names API and version.
    Request(BytesInput),
    /// A response frame (4-byte size prefix optional) of the API and version given.
    Response {
        /// The API: Produce, Metadata, ApiVersions (any case, `-`/`_` ignored) or its key.
        #[arg(long, value_parser = parse_api)]
        api: ApiKey,
        /// The version of the request it answers.
        #[arg(long)]
        version: i16,
        #[command(flatten)]
        input: BytesInput,
    },
    /// RecordBatch v2 bytes, one or more batches back to back (a Produce `records` field).
    RecordBatch(BytesInput),
}

/// Where `encode` reads its JSON, and how it writes the bytes.
#[derive(Args)]
pub struct JsonInput {
    /// File holding the JSON that `decode` prints; `-` or nothing for standard input.
    file: Option<PathBuf>,
    /// Write the raw bytes instead of one line of hex.
    #[arg(long)]
    raw: bool,
}

/// What `encode` writes.
#[derive(Subcommand)]
pub enum EncodeCommand {
    /// A request frame, always with its size prefix.
    Request(JsonInput),
    /// A response frame, always with its size prefix.
    Response(JsonInput),
    /// Record batches, back to back, each with a freshly computed CRC.
    RecordBatch(JsonInput),
}

/// Runs `kwire decode`.
pub fn decode(command: DecodeCommand) -> Result<ExitCode, Failure> {
    let json = match command {
        DecodeCommand::Request(input) => {
            let bytes = read_bytes(&input)?;
            decode_frame(&bytes, "request frame", |f| decode_request(f, input.pretty))
        }
        DecodeCommand::Response {
            api,
            version,
            input,
        } => {
            check_version(api, version)?;
            let bytes = read_bytes(&input)?;
            decode_frame(&bytes, "response frame", |f| {
                decode_response(f, api, version, input.pretty)
            })
        }
        DecodeCommand::RecordBatch(input) => {
            let bytes = read_bytes(&input)?;
            decode_batches(bytes, input.pretty)
        }
    };
    let mut text = json.map_err(|e| Failure::fatal(e.to_string()))?;
    text.push('\n');
    crate::write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Turns JSON text into bytes.
type EncodeJson = fn(&str) -> Result<Bytes, Failure>;

/// Runs `kwire encode`.
pub fn encode(command: EncodeCommand) -> Result<ExitCode, Failure> {
    let (input, encode_json): (_, EncodeJson) = match command {
        EncodeCommand::Request(input) => (input, encode_request),
        EncodeCommand::Response(input) => (input, encode_response),
        EncodeCommand::RecordBatch(input) => (input, encode_batches),
    };
    let bytes = encode_json(&read_text(input.file.as_deref())?)?;
    if input.raw {
        crate::write_stdout(&bytes)?;
    } else {
        crate::write_stdout(format!("{}\n", hex(&bytes)).as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// An API named on the command line, by name or key.
fn parse_api(text: &str) -> Result<ApiKey, String> {
    let by_key = text.parse::<i16>().ok().and_then(ApiKey::from_code);
    by_key
        .or_else(|| ApiKey::from_name(text))
        .ok_or_else(|| format!("`{text}` is not an API kwire speaks ({})", api_list()))
}

fn api_list() -> String {
    let names: Vec<String> = ApiKey::ALL
        .iter()
        .map(|k| format!("{} {}", k.code(), k.name()))
        .collect();
    names.join(", ")
}

fn check_version(api: ApiKey, version: i16) -> Result<(), Failure> {
    let (min, max) = api.versions();
    if (min..=max).contains(&version) {
        return Ok(());
    }
    Err(Failure::fatal(format!(
        "{} version {version} is not supported (supported: {min}..={max})",
        api.name()
    )))
}

// ---- input and output ----------------------------------------------------------------------

/// Reads a whole file, or standard input for `-` or no file.
fn read_all(file: Option<&Path>) -> Result<Vec<u8>, Failure> {
    match file {
        Some(path) if path.as_os_str() != "-" => std::fs::read(path)
            .map_err(|e| Failure::fatal(format!("cannot read `{}`: {e}", path.display()))),
        _ => {
            let mut out = Vec::new();
            std::io::stdin()
                .read_to_end(&mut out)
                .map_err(|e| Failure::fatal(format!("cannot read standard input: {e}")))?;
            Ok(out)
        }
    }
}

fn read_bytes(input: &BytesInput) -> Result<Bytes, Failure> {
    match &input.hex {
        Some(text) => parse_hex(text)
            .map(Bytes::from)
            .map_err(|e| Failure::fatal(format!("--hex is not hex: {e}"))),
        None => read_all(input.file.as_deref()).map(Bytes::from),
    }
}

fn read_text(file: Option<&Path>) -> Result<String, Failure> {
    let bytes = read_all(file)?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        Failure::fatal(format!("the JSON is not UTF-8 text (byte {at})"))
    })
}

fn to_json<T: Serialize>(value: &T, pretty: bool) -> String {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    text.expect("codec types always serialize to JSON")
}

// ---- decoding ------------------------------------------------------------------------------

/// A request or response as printed: API, version, header and body.
#[derive(Serialize)]
struct FrameOut<'a, H, B> {
    api: &'static str,
    api_key: i16,
    version: i16,
    header: &'a H,
    body: &'a B,
}

/// Names the structure being read, unless the codec already did.
fn within(mut e: DecodeError, message: &'static str) -> DecodeError {
    if e.message.is_none() {
        e.message = Some(message);
    }
    e
}

/// Whether decoding failed inside a request or response header.
fn in_header(e: &DecodeError) -> bool {
    matches!(e.message, Some("RequestHeader" | "ResponseHeader"))
}

/// Decodes a frame that may or may not start with its 4-byte size prefix, giving offsets
/// within the whole input.
///
/// The prefix is taken as such when it equals the length of what follows. Otherwise the
/// input is read without one; if that fails and the first four bytes could be a size, the
/// frame is also read as prefixed (a capture cut short, or followed by more bytes), and that
/// reading is reported instead if it got past the header and further into the input.
fn decode_frame<T>(
    input: &Bytes,
    what: &'static str,
    decode: impl Fn(Bytes) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    let claimed = input
        .get(..4)
        .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .and_then(|size| usize::try_from(size).ok());
    if claimed.is_some_and(|size| size == input.len() - 4) {
        return decode(input.slice(4..)).map_err(|e| e.shifted(4));
    }
    let bare = match decode(input.clone()) {
        Ok(out) => return Ok(out),
        Err(e) => e,
    };
    let Some(claimed) = claimed else {
        return Err(bare);
    };
    let available = input.len() - 4;
    let end = 4 + claimed.min(available);
    let error = match decode(input.slice(4..end)).map_err(|e| e.shifted(4)) {
        Err(prefixed) if prefixed.offset > bare.offset && !in_header(&prefixed) => prefixed,
        Err(_) => bare,
        Ok(_) if claimed > available => DecodeError::new(
            DecodeErrorKind::Truncated {
                needed: claimed,
                remaining: available,
            },
            0,
            "frame_size",
        ),
        Ok(_) => DecodeError::new(
            DecodeErrorKind::TrailingBytes {
                remaining: available - claimed,
            },
            end,
            "frame",
        ),
    };
    Err(within(error, what))
}

/// Decodes a request frame (without size prefix) to JSON.
fn decode_request(frame: Bytes, pretty: bool) -> Result<String, DecodeError> {
    if frame.len() >= 4 {
        let key = i16::from_be_bytes([frame[0], frame[1]]);
        let version = i16::from_be_bytes([frame[2], frame[3]]);
        let unsupported = |kind, offset, field| {
            Err(within(
                DecodeError::new(kind, offset, field),
                "RequestHeader",
            ))
        };
        let Some(api) = ApiKey::from_code(key) else {
            return unsupported(DecodeErrorKind::UnknownApiKey(key), 0, "request_api_key");
        };
        let (min, max) = api.versions();
        if !(min..=max).contains(&version) {
            let kind = DecodeErrorKind::UnsupportedVersion { version, min, max };
            return unsupported(kind, 2, "request_api_version");
        }
    }
    let mut r = Reader::new(frame);
    let header = RequestHeader::decode(&mut r).map_err(|e| within(e, "RequestHeader"))?;
    let body_at = r.position();
    let body = r.take_rest();
    let version = header.request_api_version;
    let json = match ApiKey::from_code(header.request_api_key) {
        Some(ApiKey::Produce) => frame_json::<ProduceRequest, _>(&header, body, version, pretty),
        Some(ApiKey::Metadata) => frame_json::<MetadataRequest, _>(&header, body, version, pretty),
        // ApiVersions: the key was checked above, or the header could not be read.
        _ => frame_json::<ApiVersionsRequest, _>(&header, body, version, pretty),
    };
    json.map_err(|e| e.shifted(body_at))
}

/// Decodes a body of `M` at `version` and prints it with its header.
fn frame_json<M: Message + Serialize, H: Serialize>(
    header: &H,
    body: Bytes,
    version: i16,
    pretty: bool,
) -> Result<String, DecodeError> {
    let body = M::decode(body, version)?;
    let api = ApiKey::from_code(M::API_KEY).expect("every message has a known API key");
    let out = FrameOut {
        api: api.name(),
        api_key: M::API_KEY,
        version,
        header,
        body: &body,
    };
    Ok(to_json(&out, pretty))
}

/// Decodes a response frame (without size prefix) to JSON. An ApiVersions response that
/// says UNSUPPORTED_VERSION is read as v0, as a broker writes it, and printed as version 0.
fn decode_response(
    frame: Bytes,
    api: ApiKey,
    version: i16,
    pretty: bool,
) -> Result<String, DecodeError> {
    let mut r = Reader::new(frame);
    let header = ResponseHeader::decode(&mut r, api.response_header_version(version))
        .map_err(|e| within(e, "ResponseHeader"))?;
    let body_at = r.position();
    let body = r.take_rest();
    let json = match api {
        ApiKey::Produce => frame_json::<ProduceResponse, _>(&header, body, version, pretty),
        ApiKey::Metadata => frame_json::<MetadataResponse, _>(&header, body, version, pretty),
        _ => ApiVersionsResponse::decode_with_fallback(body, version).map(|(body, read_as)| {
            let out = FrameOut {
                api: api.name(),
                api_key: api.code(),
                version: read_as,
                header: &header,
                body: &body,
            };
            to_json(&out, pretty)
        }),
    };
    json.map_err(|e| e.shifted(body_at))
}

/// A batch as printed: whether its CRC matches, then its fields.
#[derive(Serialize)]
struct BatchOut<'a> {
    crc_valid: bool,
    #[serde(flatten)]
    batch: &'a RecordBatch,
}

/// Decodes back-to-back batches, not stopping at a CRC mismatch but reporting it.
fn decode_batches(bytes: Bytes, pretty: bool) -> Result<String, DecodeError> {
    let batches = RecordBatch::decode_all(bytes.clone(), CrcCheck::Skip)
        .map_err(|e| within(e, "RecordBatch"))?;
    // decode_all checked every length, so the batches can be walked again by them.
    let mut start = 0;
    let mut out = Vec::with_capacity(batches.len());
    for batch in &batches {
        let length = i32::from_be_bytes([
            bytes[start + 8],
            bytes[start + 9],
            bytes[start + 10],
            bytes[start + 11],
        ]);
        let end = start + 12 + length as usize;
        out.push(BatchOut {
            crc_valid: RecordBatch::crc_is_valid(&bytes[start..end]),
            batch,
        });
        start = end;
    }
    #[derive(Serialize)]
    struct Batches<'a> {
        batches: Vec<BatchOut<'a>>,
    }
    Ok(to_json(&Batches { batches: out }, pretty))
}

// ---- encoding ------------------------------------------------------------------------------

/// The members that say which API and version a frame's JSON is, read before the rest.
#[derive(Deserialize, Default)]
struct Probe {
    api: Option<String>,
    api_key: Option<i16>,
    version: Option<i16>,
    #[serde(default)]
    header: ProbeHeader,
}

#[derive(Deserialize, Default)]
struct ProbeHeader {
    request_api_key: Option<i16>,
    request_api_version: Option<i16>,
}

/// A frame as read back: header and body of the types the probe chose.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    bound(deserialize = "H: Deserialize<'de> + Default, B: Deserialize<'de> + Default")
)]
struct FrameIn<H, B> {
    // Already read, and checked, by the probe.
    #[serde(rename = "api")]
    _api: Option<IgnoredAny>,
    #[serde(rename = "api_key")]
    _api_key: Option<IgnoredAny>,
    #[serde(rename = "version")]
    _version: Option<IgnoredAny>,
    #[serde(default)]
    header: H,
    #[serde(default)]
    body: B,
}

fn parse_json<T: DeserializeOwned>(text: &str) -> Result<T, Failure> {
    serde_json::from_str(text).map_err(|e| Failure::fatal(format!("invalid JSON: {e}")))
}

/// The one value that every source which gives one agrees on.
fn agreed(what: &str, sources: &[(&str, Option<i16>)]) -> Result<Option<i16>, Failure> {
    let mut given = sources.iter().filter_map(|(name, v)| v.map(|v| (name, v)));
    let Some((first_name, first)) = given.next() else {
        return Ok(None);
    };
    for (name, v) in given {
        if v != first {
            return Err(Failure::fatal(format!(
                "the {what} is {first} in `{first_name}` but {v} in `{name}`"
            )));
        }
    }
    Ok(Some(first))
}

/// The API the JSON names, through `api`, `api_key` or the request header.
fn api_of(probe: &Probe) -> Result<ApiKey, Failure> {
    let by_name = match &probe.api {
        Some(name) => Some(parse_api(name).map_err(|e| Failure::fatal(format!("`api`: {e}")))?),
        None => None,
    };
    let sources = [
        ("api", by_name.map(ApiKey::code)),
        ("api_key", probe.api_key),
        ("header.request_api_key", probe.header.request_api_key),
    ];
    let code = agreed("API key", &sources)?.ok_or_else(|| {
        Failure::fatal("the JSON does not say which API it is: give `api` or `api_key`")
    })?;
    ApiKey::from_code(code).ok_or_else(|| {
        Failure::fatal(format!(
            "API key {code} is not one kwire speaks ({})",
            api_list()
        ))
    })
}

fn encode_request(text: &str) -> Result<Bytes, Failure> {
    let probe: Probe = parse_json(text)?;
    let api = api_of(&probe)?;
    let sources = [
        ("version", probe.version),
        (
            "header.request_api_version",
            probe.header.request_api_version,
        ),
    ];
    let version = agreed("version", &sources)?.ok_or_else(|| {
        Failure::fatal("the JSON does not say which version it is: give `version`")
    })?;
    check_version(api, version)?;
    match api {
        ApiKey::Produce => encode_request_as::<ProduceRequest>(text, version),
        ApiKey::Metadata => encode_request_as::<MetadataRequest>(text, version),
        _ => encode_request_as::<ApiVersionsRequest>(text, version),
    }
}

fn encode_request_as<M>(text: &str, version: i16) -> Result<Bytes, Failure>
where
    M: Message + DeserializeOwned + Default,
{
    let frame: FrameIn<RequestHeader, M> = parse_json(text)?;
    let mut header = frame.header;
    header.request_api_key = M::API_KEY;
    header.request_api_version = version;
    let mut buf = BytesMut::new();
    encode_request_frame(&header, &frame.body, &mut buf)
        .map_err(|e| Failure::fatal(format!("cannot encode: {e}")))?;
    Ok(buf.freeze())
}

fn encode_response(text: &str) -> Result<Bytes, Failure> {
    let probe: Probe = parse_json(text)?;
    let api = api_of(&probe)?;
    let version = probe.version.ok_or_else(|| {
        Failure::fatal("the JSON does not say which version it is: give `version`")
    })?;
    check_version(api, version)?;
    match api {
        ApiKey::Produce => encode_response_as::<ProduceResponse>(text, version),
        ApiKey::Metadata => encode_response_as::<MetadataResponse>(text, version),
        _ => encode_response_as::<ApiVersionsResponse>(text, version),
    }
}

fn encode_response_as<M>(text: &str, version: i16) -> Result<Bytes, Failure>
where
    M: Message + DeserializeOwned + Default,
{
    let frame: FrameIn<ResponseHeader, M> = parse_json(text)?;
    let mut buf = BytesMut::new();
    encode_response_frame(&frame.header, &frame.body, version, &mut buf)
        .map_err(|e| Failure::fatal(format!("cannot encode: {e}")))?;
    Ok(buf.freeze())
}

/// Batches as read back; each is an object so that `crc_valid` can be set aside.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchesIn {
    batches: Vec<serde_json::Map<String, serde_json::Value>>,
}

fn encode_batches(text: &str) -> Result<Bytes, Failure> {
    let input: BatchesIn = parse_json(text)?;
    let mut buf = BytesMut::new();
    for (i, mut fields) in input.batches.into_iter().enumerate() {
        let bad =
            |e: &dyn std::fmt::Display| Failure::fatal(format!("invalid JSON: batches[{i}]: {e}"));
        if let Some(flag) = fields.remove("crc_valid") {
            if !flag.is_boolean() {
                return Err(bad(&"`crc_valid` must be true or false"));
            }
        }
        let batch =
            RecordBatch::deserialize(serde_json::Value::Object(fields)).map_err(|e| bad(&e))?;
        batch
            .encode(&mut buf)
            .map_err(|e| Failure::fatal(format!("cannot encode batches[{i}]: {e}")))?;
    }
    Ok(buf.freeze())
}
