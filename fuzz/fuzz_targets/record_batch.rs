//! Decodes arbitrary bytes as the records field of a produce request: zero or more
//! RecordBatch v2. The first byte chooses whether CRCs are checked (odd) or skipped (even,
//! so that the fuzzer reaches the records behind a CRC it cannot forge).
#![no_main]

use bytes::Bytes;
use kwire_codec::record::{CrcCheck, RecordBatch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let check = if first & 1 == 1 {
        CrcCheck::Verify
    } else {
        CrcCheck::Skip
    };
    let bytes = Bytes::copy_from_slice(rest);
    let _ = RecordBatch::crc_is_valid(rest);
    if let Some(batches) = kwire_fuzz::record_batches(bytes, check) {
        for b in &batches {
            let _ = b.compression();
            assert!(b.records.len() <= rest.len(), "more records than bytes");
        }
    }
});
