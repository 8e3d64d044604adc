#!/usr/bin/env python3
"""Writes the fuzz seeds under fuzz/seeds/<target>/ from two sources:

- the frames captured from Kafka 4.4.0 in crates/kwire-codec/tests/fixtures/;
- the byte vectors of KAFKA-NOTES.md sections 1.5, 3.4 and 4.7 (checked there against two
  independent encoders), copied below.

Each target's input format is the one its source file documents: one version byte then the
body for the per-message targets, a whole size-prefixed frame for request_frame, a CRC-mode
byte then batches for record_batch, and a kind byte, a version byte and the bytes for
round_trip. The seeds are checked in; rerun this after recapturing the fixtures:

    python3 fuzz/make_seeds.py
"""

import pathlib
import re
import shutil
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "crates/kwire-codec/tests/fixtures"
SEEDS = ROOT / "fuzz/seeds"

API_VERSIONS, METADATA, PRODUCE = 18, 3, 0
FIRST_FLEXIBLE = {API_VERSIONS: 3, METADATA: 9, PRODUCE: 9}
NAMES = {API_VERSIONS: "api_versions", METADATA: "metadata", PRODUCE: "produce"}
# round_trip's first byte: what to decode.
KIND = {
    ("api_versions", "request"): 0,
    ("api_versions", "response"): 1,
    ("metadata", "request"): 2,
    ("metadata", "response"): 3,
    ("produce", "request"): 4,
    ("produce", "response"): 5,
}
KIND_BATCHES, KIND_REQUEST_HEADER, KIND_RESPONSE_HEADER = 6, 7, 8


def unhex(text):
    """Hex as KAFKA-NOTES writes it: spaces and `|` ignored, `<N×XX>` repeats a byte."""
    text = re.sub(r"<(\d+)×([0-9a-f]{2})>", lambda m: m.group(2) * int(m.group(1)), text)
    return bytes.fromhex(text.replace("|", " "))


# KAFKA-NOTES 4.7-A and 4.7-B.
BATCH_A = unhex(
    "00 00 00 00 00 00 00 00  00 00 00 3a  ff ff ff ff  02  bb cc 41 15  00 00  00 00 00 00"
    "00 00 01 8b cf e5 68 00  00 00 01 8b cf e5 68 00  ff ff ff ff ff ff ff ff  ff ff  ff ff ff ff"
    "00 00 00 01  10 00 00 00 01 04 68 69 00"
)
BATCH_B = unhex(
    "00 00 00 00 00 00 00 00 00 00 00 49 ff ff ff ff 02 f1 75 9b af 00 00 00 00 00 01"
    "00 00 01 8b cf e5 68 00 00 00 01 8b cf e5 68 05 ff ff ff ff ff ff ff ff ff ff ff ff ff ff 00 00 00 02"
    "1c 00 00 00 04 6b 31 04 76 31 02 02 68 02 78   10 00 0a 02 04 6b 32 01 00"
)
B = BATCH_A.hex()

# KAFKA-NOTES 1.5 and 3.4: whole frames, size prefix included.
NOTES_REQUESTS = {
    "notes_api_versions_v4": "00 00 00 15 | 00 12 00 04 00 00 00 01 00 02 72 6b 00 | 03 72 6b 04 30 2e 31 00",
    "notes_api_versions_v0": "00 00 00 0c 00 12 00 00 00 00 00 01 00 02 72 6b",
    "notes_metadata_v12": "00 00 00 24 00 03 00 0c 00 00 00 02 00 02 72 6b 00 | 02 <16×00> 02 74 00 01 00 00",
    "notes_produce_v9": f"00 00 00 66 00 00 00 09 00 00 00 03 00 02 72 6b 00 | 00 00 01 00 00 75 30 02 02 74 02 00 00 00 00 47 {B} 00 00 00",
    "notes_produce_v3": f"00 00 00 6d 00 00 00 03 00 00 00 04 00 02 72 6b | ff ff 00 01 00 00 75 30 00 00 00 01 00 01 74 00 00 00 01 00 00 00 00 00 00 00 46 {B}",
}
# (api key, version, frame with size prefix)
NOTES_RESPONSES = {
    "notes_produce_v9_ok": (PRODUCE, 9, "00 00 00 30 00 00 00 03 00 | 02 02 74 02 00 00 00 00 00 00 00 00 00 00 00 00 00 2a ff ff ff ff ff ff ff ff 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00"),
    "notes_produce_v3_ok": (PRODUCE, 3, "00 00 00 29 00 00 00 04 | 00 00 00 01 00 01 74 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 2a ff ff ff ff ff ff ff ff 00 00 00 00"),
    "notes_produce_v10_not_leader": (PRODUCE, 10, "00 00 00 52 00 00 00 05 00 | 02 02 74 02 00 00 00 00 00 06 <24×ff> 01 00 | 01 00 09 00 00 00 02 00 00 00 07 00 | 00 | 00 00 00 00 | 01 00 15 02 00 00 00 02 0a 31 32 37 2e 30 2e 30 2e 31 00 00 71 a4 00 00"),
    # The broker's answer to an ApiVersions version it does not serve: a v0 body.
    "notes_api_versions_unsupported": (API_VERSIONS, 0, "00 00 00 10 | 00 00 00 01 | 00 23 | 00 00 00 01 | 00 12 00 00 00 04"),
}


def flexible(api, version):
    return version >= FIRST_FLEXIBLE[api]


def split_request(frame):
    """A request frame without size prefix -> (api, version, header bytes, body)."""
    api, version, _corr, client_len = struct.unpack(">hhih", frame[:10])
    end = 10 + max(client_len, 0)
    if flexible(api, version):
        assert frame[end] == 0, "request header with tagged fields"
        end += 1
    return api, version, frame[:end], frame[end:]


def split_response(api, version, frame):
    """A response frame without size prefix -> (header version, header bytes, body)."""
    header_version = 1 if flexible(api, version) and api != API_VERSIONS else 0
    end = 4
    if header_version == 1:
        assert frame[end] == 0, "response header with tagged fields"
        end += 1
    return header_version, frame[:end], frame[end:]


def unprefixed(frame):
    (size,) = struct.unpack(">i", frame[:4])
    assert size == len(frame) - 4, f"size prefix {size} for {len(frame) - 4} bytes"
    return frame[4:]


def uvarint(data, at):
    value, shift = 0, 0
    while True:
        b = data[at]
        at += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, at
        shift += 7


def produce_records(version, body):
    """The records field of a one-topic, one-partition produce request body."""
    flex = flexible(PRODUCE, version)
    at = 0
    if flex:
        n, at = uvarint(body, at)
        at += max(n - 1, 0)
    else:
        (n,) = struct.unpack(">h", body[:2])
        at = 2 + max(n, 0)
    at += 2 + 4  # acks, timeout_ms
    if flex:
        _, at = uvarint(body, at)  # topic count
    else:
        at += 4
    if version >= 13:
        at += 16
    elif flex:
        n, at = uvarint(body, at)
        at += n - 1
    else:
        (n,) = struct.unpack(">h", body[at : at + 2])
        at += 2 + n
    if flex:
        _, at = uvarint(body, at)  # partition count
    else:
        at += 4
    at += 4  # partition index
    if flex:
        n, at = uvarint(body, at)
        n -= 1
    else:
        (n,) = struct.unpack(">i", body[at : at + 4])
        at += 4
    return body[at : at + n]


def main():
    if SEEDS.exists():
        shutil.rmtree(SEEDS)
    seeds = {}

    def add(target, name, data):
        path = SEEDS / target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        seeds[target] = seeds.get(target, 0) + 1

    requests = {}  # name -> frame without size prefix
    for path in sorted(FIXTURES.glob("*_request.bin")):
        requests["fixture_" + path.name[: -len("_request.bin")]] = path.read_bytes()
    for name, text in NOTES_REQUESTS.items():
        requests[name] = unprefixed(unhex(text))

    batches = {"notes_batch_a": BATCH_A, "notes_batch_b": BATCH_B, "notes_batches_a_b": BATCH_A + BATCH_B}
    for name, frame in requests.items():
        api, version, header, body = split_request(frame)
        what = NAMES[api]
        add(f"{what}_request", name, bytes([version]) + body)
        add("request_frame", name, struct.pack(">i", len(frame)) + frame)
        add("round_trip", f"{what}_request_{name}", bytes([KIND[what, "request"], version]) + body)
        add("round_trip", f"request_header_{name}", bytes([KIND_REQUEST_HEADER, 0]) + header)
        if api == PRODUCE:
            batches[f"{name}_records"] = produce_records(version, body)

    responses = {}  # name -> (api, version, frame without size prefix)
    for path in sorted(FIXTURES.glob("*_response.bin")):
        stem = path.name[: -len("_response.bin")]
        what, version = stem.rsplit("_v", 1)
        api = {v: k for k, v in NAMES.items()}[what]
        responses["fixture_" + stem] = (api, int(version), path.read_bytes())
    for name, (api, version, text) in NOTES_RESPONSES.items():
        responses[name] = (api, version, unprefixed(unhex(text)))

    for name, (api, version, frame) in responses.items():
        header_version, header, body = split_response(api, version, frame)
        what = NAMES[api]
        add(f"{what}_response", name, bytes([version]) + body)
        add("round_trip", f"{what}_response_{name}", bytes([KIND[what, "response"], version]) + body)
        add("round_trip", f"response_header_{name}", bytes([KIND_RESPONSE_HEADER, header_version]) + header)

    for name, data in batches.items():
        add("record_batch", f"{name}_crc_skipped", b"\x00" + data)
        add("record_batch", f"{name}_crc_checked", b"\x01" + data)
        add("round_trip", f"batches_{name}", bytes([KIND_BATCHES, 0]) + data)

    # crc32c: a starting CRC (4 bytes) and data, of lengths on both sides of the folding
    # threshold (512) and the 64- and 256-byte steps; the record batches' own bytes too.
    for length in (0, 100, 515, 777, 1300, 4100):
        data = bytes((i * 2654435761 >> 13) & 0xFF for i in range(length + 4))
        add("crc32c", f"length_{length}", data)
    for name, data in batches.items():
        add("crc32c", f"batch_{name}", b"\xff\xff\xff\xff" + data)

    # batch_builder: records described by flag bytes (see kwire_fuzz::batch_builder); a
    # pseudo-random stream of a few lengths reaches every width, key and value case.
    for length in (16, 200, 1000, 3000):
        data = bytes((i * 2246822519 >> 11) & 0xFF for i in range(length))
        add("batch_builder", f"stream_{length}", data)

    for target, count in sorted(seeds.items()):
        print(f"{target}: {count} seeds")


if __name__ == "__main__":
    main()
