//! The same operations as `record_batch`, measured in alternation: one round of each
//! operation after the other, many times over, keeping each operation's fastest round.
//!
//! On a machine shared with other work, interference that lasts a few seconds lands on
//! whichever criterion benchmark runs at that moment and skews its ratio to its neighbours;
//! here it lands on every operation alike, and the fastest round of each is the one least
//! disturbed. The ratios printed are the ones the targets in docs/benchmarks.md are checked
//! against, next to criterion's figures.

use std::hint::black_box;
use std::time::{Duration, Instant};

use kwire_benches::{
    capacity, check_agreement, copy_and_crc, crc_with_crc32c_crate, crc_with_kwire_crc32c, input,
    kp_decode, kp_encode, kp_records, kwire_decode, kwire_encode, SHAPES,
};

/// An operation under measurement: its name, the call, and its fastest round so far.
type Op<'a> = (&'static str, Box<dyn FnMut() + 'a>, Duration);

/// Rounds per operation, and calls per round.
const ROUNDS: usize = 60;
const CALLS: u32 = 20;

fn main() {
    // `cargo bench -- <filter>` passes arguments meant for criterion; run regardless.
    println!("paired: fastest of {ROUNDS} alternating rounds of {CALLS} calls, per batch");
    println!(
        "kwire-crc32c on this CPU: {}",
        kwire_crc32c::implementation()
    );
    for shape in &SHAPES {
        let input = input(shape);
        let kp = kp_records(&input);
        let capacity = capacity(shape);
        let batch = check_agreement(&input, &kp, capacity);

        let mut ops: [Op; 7] = [
            (
                "encode kwire",
                Box::new(|| drop(black_box(kwire_encode(black_box(&input), capacity)))),
                Duration::MAX,
            ),
            (
                "encode kafka-protocol",
                Box::new(|| drop(black_box(kp_encode(black_box(&kp), capacity)))),
                Duration::MAX,
            ),
            (
                "decode kwire",
                Box::new(|| drop(black_box(kwire_decode(black_box(&batch))))),
                Duration::MAX,
            ),
            (
                "decode kafka-protocol",
                Box::new(|| drop(black_box(kp_decode(black_box(&batch))))),
                Duration::MAX,
            ),
            (
                "copy+crc32c",
                Box::new(|| drop(black_box(copy_and_crc(black_box(&batch))))),
                Duration::MAX,
            ),
            (
                "crc32c crate only",
                Box::new(|| {
                    black_box(crc_with_crc32c_crate(black_box(&batch)));
                }),
                Duration::MAX,
            ),
            (
                "kwire-crc32c only",
                Box::new(|| {
                    black_box(crc_with_kwire_crc32c(black_box(&batch)));
                }),
                Duration::MAX,
            ),
        ];
        for _ in 0..ROUNDS {
            for (_, op, best) in ops.iter_mut() {
                let start = Instant::now();
                for _ in 0..CALLS {
                    op();
                }
                *best = (*best).min(start.elapsed() / CALLS);
            }
        }

        let us = |i: usize| ops[i].2.as_secs_f64() * 1e6;
        println!("{} ({} bytes):", shape.label, batch.len());
        for (name, _, best) in &ops {
            println!("  {name:<22} {:>8.1} µs", best.as_secs_f64() * 1e6);
        }
        println!(
            "  kafka-protocol / kwire: encode {:.2}x, decode {:.2}x; \
             kwire / copy+crc32c: encode {:.2}x, decode {:.2}x",
            us(1) / us(0),
            us(3) / us(2),
            us(0) / us(4),
            us(2) / us(4),
        );
    }
}
