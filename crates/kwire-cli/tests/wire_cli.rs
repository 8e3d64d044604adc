//! `kwire decode` and `kwire encode` on the reference byte vectors of KAFKA-NOTES §3.4 and
//! §4.7 (checked there against kafka-protocol and kafka-python). No broker is needed.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

/// RecordBatch 4.7-A: one record, null key, value "hi".
const BATCH_A: &str = "0000000000000000 0000003a ffffffff 02 bbcc4115 0000 00000000 \
    0000018bcfe56800 0000018bcfe56800 ffffffffffffffff ffff ffffffff 00000001 \
    10 00 00 00 01 04 6869 00";

/// RecordBatch 4.7-B: (k1, v1, header h=x) and (k2, null value, 5 ms later).
const BATCH_B: &str = "0000000000000000 00000049 ffffffff 02 f1759baf 0000 00000001 \
    0000018bcfe56800 0000018bcfe56805 ffffffffffffffff ffff ffffffff 00000002 \
    1c 00 00 00 04 6b31 04 7631 02 02 68 02 78 10 00 0a 02 04 6b32 01 00";

const API_VERSIONS_V4_REQUEST: &str =
    "00000015 0012 0004 00000001 0002 726b 00 03 726b 04 302e31 00";

const PRODUCE_V9_RESPONSE: &str = "00000030 00000003 00 02 0274 02 00000000 0000 \
    000000000000002a ffffffffffffffff 0000000000000000 01 00 00 00 00000000 00";

const PRODUCE_V3_RESPONSE: &str = "00000029 00000004 00000001 0001 74 00000001 00000000 0000 \
    000000000000002a ffffffffffffffff 00000000";

const PRODUCE_V10_RESPONSE: &str = "00000052 00000005 00 02 0274 02 00000000 0006 \
    ffffffffffffffff ffffffffffffffff ffffffffffffffff 01 00 01 00 09 00000002 00000007 00 \
    00 00000000 01 00 15 02 00000002 0a 3132372e302e302e31 000071a4 00 00";

fn metadata_v12_request() -> String {
    format!(
        "00000024 0003 000c 00000002 0002 726b 00 02 {} 02 74 00 01 00 00",
        "00".repeat(16)
    )
}

fn produce_v9_request() -> String {
    format!("00000066 0000 0009 00000003 0002 726b 00 00 0001 00007530 02 02 74 02 00000000 47 {BATCH_A} 00 00 00")
}

fn produce_v3_request() -> String {
    format!("0000006d 0000 0003 00000004 0002 726b ffff 0001 00007530 00000001 0001 74 00000001 00000000 00000046 {BATCH_A}")
}

/// Hex without the spaces, as `encode` prints it.
fn plain(hex: &str) -> String {
    hex.split_whitespace().collect()
}

fn kwire(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kwire"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kwire");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().expect("wait for kwire")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs a decode that must succeed and returns its JSON.
fn decode(args: &[&str], hex: &str) -> Value {
    let mut all = args.to_vec();
    all.extend(["--hex", hex]);
    let out = kwire(&all, b"");
    assert!(out.status.success(), "kwire {all:?}: {}", stderr(&out));
    assert_eq!(
        stdout(&out).lines().count(),
        1,
        "one JSON object on one line"
    );
    serde_json::from_str(&stdout(&out)).expect("decode prints JSON")
}

/// Runs an encode that must succeed and returns its hex.
fn encode(what: &str, json: &Value) -> String {
    let out = kwire(&["encode", what], json.to_string().as_bytes());
    assert!(
        out.status.success(),
        "kwire encode {what}: {}",
        stderr(&out)
    );
    stdout(&out).trim_end().to_owned()
}

/// Runs a command that must fail and returns its one line of stderr.
fn failure(args: &[&str], stdin: &[u8]) -> String {
    let out = kwire(args, stdin);
    assert_eq!(out.status.code(), Some(1), "kwire {args:?} should fail");
    assert!(out.stdout.is_empty(), "nothing on stdout");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one line on stderr: {err}");
    err
}

#[test]
fn an_api_versions_v4_request_decodes_and_encodes_back_to_its_bytes() {
    let v = decode(&["decode", "request"], API_VERSIONS_V4_REQUEST);
    assert_eq!(v["api"], "ApiVersions");
    assert_eq!(v["api_key"], 18);
    assert_eq!(v["version"], 4);
    assert_eq!(v["header"]["correlation_id"], 1);
    assert_eq!(v["header"]["client_id"], "rk");
    assert_eq!(v["body"]["client_software_name"], "rk");
    assert_eq!(v["body"]["client_software_version"], "0.1");
    assert_eq!(encode("request", &v), plain(API_VERSIONS_V4_REQUEST));
}

#[test]
fn a_metadata_v12_request_shows_the_topic_and_a_zero_uuid() {
    let hex = metadata_v12_request();
    let v = decode(&["decode", "request"], &hex);
    assert_eq!(v["api"], "Metadata");
    assert_eq!(v["version"], 12);
    assert_eq!(v["header"]["correlation_id"], 2);
    assert_eq!(v["body"]["topics"][0]["name"], "t");
    assert_eq!(v["body"]["topics"][0]["topic_id"], "0".repeat(32));
    assert_eq!(v["body"]["allow_auto_topic_creation"], true);
    assert_eq!(encode("request", &v), plain(&hex));
}

#[test]
fn produce_v9_and_v3_requests_carry_batch_a_as_hex() {
    for (hex, version, correlation_id) in
        [(produce_v9_request(), 9, 3), (produce_v3_request(), 3, 4)]
    {
        let v = decode(&["decode", "request"], &hex);
        assert_eq!(v["api"], "Produce");
        assert_eq!(v["api_key"], 0);
        assert_eq!(v["version"], version);
        assert_eq!(v["header"]["correlation_id"], correlation_id);
        let body = &v["body"];
        assert_eq!(body["transactional_id"], Value::Null);
        assert_eq!(body["acks"], 1);
        assert_eq!(body["timeout_ms"], 30000);
        assert_eq!(body["topic_data"][0]["name"], "t");
        assert_eq!(body["topic_data"][0]["partition_data"][0]["index"], 0);
        assert_eq!(
            body["topic_data"][0]["partition_data"][0]["records"],
            plain(BATCH_A)
        );
        assert_eq!(encode("request", &v), plain(&hex), "Produce v{version}");
    }
}

#[test]
fn produce_v9_and_v3_responses_show_base_offset_42() {
    for (hex, version) in [(PRODUCE_V9_RESPONSE, "9"), (PRODUCE_V3_RESPONSE, "3")] {
        let v = decode(
            &[
                "decode",
                "response",
                "--api",
                "Produce",
                "--version",
                version,
            ],
            hex,
        );
        assert_eq!(v["api"], "Produce");
        assert_eq!(v["version"], version.parse::<i64>().unwrap());
        let topic = &v["body"]["responses"][0];
        assert_eq!(topic["name"], "t");
        assert_eq!(topic["partition_responses"][0]["base_offset"], 42);
        assert_eq!(topic["partition_responses"][0]["error_code"], 0);
        assert_eq!(topic["partition_responses"][0]["log_append_time_ms"], -1);
        assert_eq!(encode("response", &v), plain(hex), "Produce v{version}");
    }
    let v9 = decode(
        &["decode", "response", "--api", "produce", "--version", "9"],
        PRODUCE_V9_RESPONSE,
    );
    assert_eq!(v9["header"]["correlation_id"], 3);
    assert_eq!(
        v9["body"]["responses"][0]["partition_responses"][0]["log_start_offset"],
        0
    );
}

#[test]
fn a_produce_v10_not_leader_response_shows_the_current_leader_and_its_endpoint() {
    let v = decode(
        &["decode", "response", "--api", "0", "--version", "10"],
        PRODUCE_V10_RESPONSE,
    );
    let p = &v["body"]["responses"][0]["partition_responses"][0];
    assert_eq!(p["error_code"], 6);
    assert_eq!(p["current_leader"]["leader_id"], 2);
    assert_eq!(p["current_leader"]["leader_epoch"], 7);
    assert_eq!(
        v["body"]["node_endpoints"],
        json!([{"node_id": 2, "host": "127.0.0.1", "port": 29092, "rack": null,
                "unknown_tagged_fields": []}])
    );
    assert_eq!(encode("response", &v), plain(PRODUCE_V10_RESPONSE));
}

#[test]
fn batches_a_and_b_decode_to_their_records_and_encode_back() {
    let both = format!("{BATCH_A} {BATCH_B}");
    let v = decode(&["decode", "record-batch"], &both);
    let batches = v["batches"].as_array().unwrap();
    assert_eq!(batches.len(), 2);
    assert_eq!(batches[0]["crc_valid"], true);
    assert_eq!(batches[0]["crc"], 0xbbcc_4115u32);
    assert_eq!(batches[0]["base_timestamp"], 1_700_000_000_000i64);
    assert_eq!(
        batches[0]["records"],
        json!([{"attributes": 0, "timestamp_delta": 0, "offset_delta": 0,
                "key": null, "value": "6869", "headers": []}])
    );
    let b = &batches[1];
    assert_eq!(b["crc_valid"], true);
    assert_eq!(b["crc"], 0xf175_9bafu32);
    assert_eq!(b["last_offset_delta"], 1);
    assert_eq!(b["max_timestamp"], 1_700_000_000_005i64);
    assert_eq!(b["records"][0]["key"], "6b31");
    assert_eq!(b["records"][0]["value"], "7631");
    assert_eq!(
        b["records"][0]["headers"],
        json!([{"key": "h", "value": "78"}])
    );
    assert_eq!(b["records"][1]["key"], "6b32");
    assert_eq!(b["records"][1]["value"], Value::Null);
    assert_eq!(b["records"][1]["timestamp_delta"], 5);
    assert_eq!(encode("record-batch", &v), plain(&both));
}

#[test]
fn a_base_offset_42_batch_from_a_file_keeps_its_offset() {
    let mut bytes = kwire_codec::parse_hex(BATCH_A).unwrap();
    bytes[7] = 42;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batch.bin");
    std::fs::write(&path, &bytes).unwrap();
    let out = kwire(&["decode", "record-batch", path.to_str().unwrap()], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["batches"][0]["base_offset"], 42);
    // The base offset is outside the CRC, so the CRC still holds.
    assert_eq!(v["batches"][0]["crc_valid"], true);
    assert_eq!(encode("record-batch", &v), kwire_codec::hex(&bytes));
}

#[test]
fn raw_bytes_on_stdin_decode_and_raw_encode_gives_them_back() {
    let bytes = kwire_codec::parse_hex(&produce_v9_request()).unwrap();
    let out = kwire(&["decode", "request", "-"], &bytes);
    assert!(out.status.success(), "{}", stderr(&out));
    let back = kwire(&["encode", "request", "--raw"], &out.stdout);
    assert!(back.status.success(), "{}", stderr(&back));
    assert_eq!(back.stdout, bytes);
}

#[test]
fn a_request_without_its_size_prefix_decodes_alike_and_encodes_with_one() {
    let framed = plain(API_VERSIONS_V4_REQUEST);
    let bare = &framed[8..];
    let v = decode(&["decode", "request"], bare);
    assert_eq!(v, decode(&["decode", "request"], &framed));
    assert_eq!(encode("request", &v), framed);
}

#[test]
fn null_and_empty_keys_stay_apart_in_json_and_on_the_wire() {
    let json = json!({"batches": [{
        "base_timestamp": 1_700_000_000_000i64,
        "max_timestamp": 1_700_000_000_000i64,
        "last_offset_delta": 1,
        "records": [
            {"key": null, "value": ""},
            {"offset_delta": 1, "key": "", "value": null},
        ],
    }]});
    let hex = encode("record-batch", &json);
    // Record 1: key length -1 (01), value length 0 (00); record 2: key 00, value 01.
    assert!(
        hex.ends_with("0c000000010000 0c000002000100".replace(' ', "").as_str()),
        "{hex}"
    );
    let v = decode(&["decode", "record-batch"], &hex);
    let records = &v["batches"][0]["records"];
    assert_eq!(records[0]["key"], Value::Null);
    assert_eq!(records[0]["value"], "");
    assert_eq!(records[1]["key"], "");
    assert_eq!(records[1]["value"], Value::Null);
    assert_eq!(v["batches"][0]["crc_valid"], true);
}

#[test]
fn a_hand_written_batch_takes_defaults_and_matches_batch_a() {
    let json = json!({"batches": [{
        "last_offset_delta": 0,
        "base_timestamp": 1_700_000_000_000i64,
        "max_timestamp": 1_700_000_000_000i64,
        "records": [{"value": "6869"}],
    }]});
    assert_eq!(encode("record-batch", &json), plain(BATCH_A));
}

#[test]
fn a_crc_mismatch_is_shown_and_encoding_writes_the_right_crc() {
    let mut bytes = kwire_codec::parse_hex(BATCH_A).unwrap();
    bytes[20] ^= 0xff;
    let v = decode(&["decode", "record-batch"], &kwire_codec::hex(&bytes));
    assert_eq!(v["batches"][0]["crc_valid"], false);
    assert_eq!(v["batches"][0]["crc"], 0xbbcc_41eau32);
    assert_eq!(v["batches"][0]["records"][0]["value"], "6869");
    assert_eq!(encode("record-batch", &v), plain(BATCH_A));
}

#[test]
fn a_truncated_request_names_the_field_and_its_byte_offset_in_the_input() {
    let whole = plain(&produce_v9_request());
    // 30 bytes: the partition array says one element, but two bytes are left.
    let err = failure(&["decode", "request", "--hex", &whole[..60]], b"");
    assert_eq!(
        err.trim_end(),
        "kwire: decoding ProduceRequest v9, field `topic_data.partition_data` at byte 27: \
         invalid length 1 with 2 bytes remaining"
    );
    // The same cut without the size prefix is four bytes earlier.
    let err = failure(&["decode", "request", "--hex", &whole[8..60]], b"");
    assert!(
        err.contains("`topic_data.partition_data` at byte 23"),
        "{err}"
    );
}

#[test]
fn a_truncated_batch_names_the_length_field() {
    let whole = plain(BATCH_A);
    let err = failure(&["decode", "record-batch", "--hex", &whole[..100]], b"");
    assert_eq!(
        err.trim_end(),
        "kwire: decoding RecordBatch, field `batch_length` at byte 8: \
         invalid length 58 with 38 bytes remaining"
    );
}

#[test]
fn bytes_after_a_whole_frame_are_reported_where_they_start() {
    let hex = format!("{API_VERSIONS_V4_REQUEST} ff");
    let err = failure(&["decode", "request", "--hex", &hex], b"");
    assert!(
        err.contains("field `frame` at byte 25: 1 bytes left over"),
        "{err}"
    );
}

#[test]
fn an_unknown_api_key_is_one_line_naming_it() {
    let err = failure(
        &["decode", "request", "--hex", "0001 000c 00000001 ffff"],
        b"",
    );
    assert_eq!(
        err.trim_end(),
        "kwire: decoding RequestHeader, field `request_api_key` at byte 0: API key 1 is not supported"
    );
}

#[test]
fn garbage_hex_is_one_line() {
    let err = failure(&["decode", "request", "--hex", "00 12 zz"], b"");
    assert!(err.contains("`z` at digit 4 is not a hex digit"), "{err}");
    let err = failure(&["decode", "record-batch", "--hex", "abc"], b"");
    assert!(err.contains("odd number of hex digits (3)"), "{err}");
}

#[test]
fn bad_json_names_the_error_and_where_it_is() {
    let err = failure(
        &["encode", "request"],
        b"{\"api\": \"Produce\", \"version\": 9,\n\"body\": {\"acks\": \"one\"}}",
    );
    assert!(
        err.contains("invalid type: string \"one\", expected i16 at line 2 column"),
        "{err}"
    );
    let err = failure(&["encode", "response"], b"{\"api\": \"Produce\",");
    assert!(err.contains("EOF while parsing"), "{err}");
}

#[test]
fn unknown_fields_are_rejected_and_named() {
    let json = br#"{"api": "Metadata", "version": 12, "body": {"topicz": []}}"#;
    let err = failure(&["encode", "request"], json);
    assert!(err.contains("unknown field `topicz`"), "{err}");
    let err = failure(
        &["encode", "record-batch"],
        br#"{"batches": [{"crc_valid": true, "recordz": []}]}"#,
    );
    assert!(err.contains("batches[0]: unknown field `recordz`"), "{err}");
}

#[test]
fn json_that_disagrees_about_the_api_is_refused() {
    let json = br#"{"api": "Produce", "version": 9, "header": {"request_api_key": 3}}"#;
    let err = failure(&["encode", "request"], json);
    assert!(
        err.contains("the API key is 0 in `api` but 3 in `header.request_api_key`"),
        "{err}"
    );
}

#[test]
fn an_api_versions_answer_of_unsupported_version_is_read_as_v0() {
    // The broker's answer to an ApiVersions v5 request it does not know (KAFKA-NOTES 1.5).
    let hex = "00000010 00000001 0023 00000001 0012 0000 0004";
    let v = decode(
        &[
            "decode",
            "response",
            "--api",
            "api-versions",
            "--version",
            "5",
        ],
        hex,
    );
    assert_eq!(v["version"], 0);
    assert_eq!(v["body"]["error_code"], 35);
    assert_eq!(v["body"]["api_keys"][0]["max_version"], 4);
    assert_eq!(encode("response", &v), plain(hex));
}

/// Encodes the JSON that `decode` printed for `bytes`, or `None` if `decode` refused them.
fn round_trip(decode_args: &[&str], encode_what: &str, bytes: &[u8]) -> Option<Vec<u8>> {
    let mut args = decode_args.to_vec();
    let hex = kwire_codec::hex(bytes);
    args.extend(["--hex", &hex]);
    let decoded = kwire(&args, b"");
    if !decoded.status.success() {
        assert_eq!(stderr(&decoded).lines().count(), 1, "{}", stderr(&decoded));
        return None;
    }
    let encoded = kwire(&["encode", encode_what, "--raw"], &decoded.stdout);
    assert!(encoded.status.success(), "{}", stderr(&encoded));
    Some(encoded.stdout)
}

#[test]
fn every_single_byte_change_that_decodes_re_encodes_to_the_same_bytes() {
    let cases: [(&[&str], &str, String); 3] = [
        (&["decode", "request"], "request", produce_v9_request()),
        (
            &["decode", "response", "--api", "produce", "--version", "10"],
            "response",
            PRODUCE_V10_RESPONSE.to_owned(),
        ),
        (
            &["decode", "record-batch"],
            "record-batch",
            BATCH_B.to_owned(),
        ),
    ];
    let (mut accepted, mut refused) = (0, 0);
    for (decode_args, what, hex) in cases {
        let original = kwire_codec::parse_hex(&hex).unwrap();
        for at in 0..original.len() {
            for flip in [0x01, 0xff] {
                let mut bytes = original.clone();
                bytes[at] ^= flip;
                let Some(mut back) = round_trip(decode_args, what, &bytes) else {
                    refused += 1;
                    continue;
                };
                if what == "record-batch" {
                    // The CRC (bytes 17..21) is computed afresh.
                    back[17..21].copy_from_slice(&bytes[17..21]);
                }
                assert_eq!(
                    kwire_codec::hex(&back),
                    kwire_codec::hex(&bytes),
                    "{what}: byte {at} ^ {flip:#04x}"
                );
                accepted += 1;
            }
        }
    }
    // Both kinds happen: changed values that are still valid, and broken structure.
    assert!(accepted > 300, "{accepted} accepted");
    assert!(refused > 100, "{refused} refused");
}
