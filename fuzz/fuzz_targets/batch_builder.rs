//! BatchBuilder against the general record encoder: the input is read as a list of records
//! (timestamp delta, optional key, optional value, with or without a header), which the
//! builder writes; its batch must decode with a valid CRC to those records and re-encode,
//! through `RecordBatch::encode`, to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kwire_fuzz::batch_builder(data);
});
