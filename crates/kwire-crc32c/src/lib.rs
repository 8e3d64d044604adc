//! CRC-32C (Castagnoli), the checksum of Kafka's RecordBatch v2.
//!
//! On x86-64 CPUs with AVX-512 and VPCLMULQDQ (Intel Ice Lake and later, AMD Zen 4 and later)
//! long inputs are folded 256 bytes at a time with 512-bit carry-less multiplication, several
//! times faster than the `crc32` instruction that the [`crc32c`](mod@crc32c) crate uses. Everywhere else,
//! and for inputs shorter than [`FOLD_THRESHOLD`], this crate calls the [`crc32c`](mod@crc32c) crate, which
//! also finishes every folded computation (the last 16 folded bytes and the tail).
//!
//! # Why this crate has `unsafe`
//!
//! kwire's crates forbid `unsafe` code. This one allows it in one module, `fold` (src/fold.rs) of the
//! x86-64 build, because the benchmarks in `docs/benchmarks.md` showed that the CRC alone
//! took most of the time of encoding and decoding 1 KiB records, more than the codec's speed
//! target allowed. The `unsafe` there is limited to calling a function compiled for CPU
//! features after checking at run time that the CPU has them, and to unaligned vector loads
//! from slices whose length was checked. The results are checked against the [`crc32c`](mod@crc32c)
//! crate by property tests over every length, alignment and starting value mix, and by a
//! fuzz target.
//!
//! # Limitations
//!
//! Only AVX-512 with VPCLMULQDQ is folded. CPUs with VPCLMULQDQ on 256-bit registers only
//! (AMD Zen 3, some Intel client cores) and ARM's PMULL take the `crc32c` crate's path, about
//! a third of the speed on long inputs where the `crc32` instruction is fast, less where it
//! is slow (5.6 GB/s on AMD Zen 1).
//!
//! # References
//!
//! - Gopal et al., "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ
//!   Instruction", Intel, 2009: folding and its constants.
//! - RFC 3720, section 12.1 and appendix B.4: the CRC-32C polynomial and test vectors.

#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]

#[cfg(target_arch = "x86_64")]
mod fold;

/// Inputs shorter than this many bytes go straight to the [`crc32c`](mod@crc32c) crate: folding has a
/// fixed cost (loading constants, reducing four vectors to one) that only pays off on
/// longer inputs.
pub const FOLD_THRESHOLD: usize = 512;

/// The CRC-32C of `data`.
#[inline]
pub fn crc32c(data: &[u8]) -> u32 {
    crc32c_append(0, data)
}

/// The CRC-32C of the bytes whose CRC-32C is `crc` followed by `data`: lets a CRC be
/// computed over several pieces. `crc32c_append(0, data)` is `crc32c(data)`.
#[inline]
pub fn crc32c_append(crc: u32, data: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if data.len() >= FOLD_THRESHOLD {
        if let Some(crc) = fold::crc32c_append(crc, data) {
            return crc;
        }
    }
    crc32c::crc32c_append(crc, data)
}

/// The CRC-32C of `a` followed by `b`, from the CRC-32C of `a`, that of `b` and the length
/// of `b`: lets a CRC be computed over pieces in any order, or over the end of a buffer
/// before its start is known (a record batch's header is written last, but comes first).
pub fn crc32c_combine(crc_a: u32, crc_b: u32, len_b: u64) -> u32 {
    // With the CRC's initial value and final complement, crc(a ‖ b) works out to
    // crc(a)·x^(8·len_b) + crc(b) modulo P: appending b's length in zero bits to a, then
    // adding b's CRC.
    multiply(crc_a, x_pow_8n(len_b)) ^ crc_b
}

/// In the bit-reflected representation of polynomials modulo P that the CRC register uses:
/// bit 31 is x^0 and bit 0 is x^31.
const ONE: u32 = 1 << 31;

/// P's coefficients of x^0 to x^31, bit-reflected.
const P_REFLECTED: u32 = 0x82F6_3B78;

/// a·b mod P.
const fn multiply(a: u32, mut b: u32) -> u32 {
    let mut product = 0;
    let mut bit = ONE;
    while bit != 0 {
        if a & bit != 0 {
            product ^= b;
        }
        // b·x: a shift towards the high powers, reduced by P when x^32 falls out.
        b = if b & 1 != 0 {
            (b >> 1) ^ P_REFLECTED
        } else {
            b >> 1
        };
        bit >>= 1;
    }
    product
}

/// x^(2^k) mod P for k = 0..67 (a length in bytes of up to 2^64 − 1 is up to 2^67 bits),
/// computed at compile time.
const X_POW_2K: [u32; 67] = {
    let mut table = [0u32; 67];
    table[0] = ONE >> 1;
    let mut k = 1;
    while k < 67 {
        table[k] = multiply(table[k - 1], table[k - 1]);
        k += 1;
    }
    table
};

/// x^(8·n) mod P: the factor that shifts a CRC past n zero bytes.
fn x_pow_8n(n: u64) -> u32 {
    let mut result = ONE;
    // 8·n = n << 3: bit k of n stands for x^(2^(k+3)).
    let mut k = 3;
    let mut n = n;
    while n != 0 {
        if n & 1 != 0 {
            result = multiply(result, X_POW_2K[k]);
        }
        n >>= 1;
        k += 1;
    }
    result
}

/// Which implementation [`crc32c()`] uses for inputs of at least [`FOLD_THRESHOLD`] bytes on
/// this CPU: `"avx512-vpclmulqdq"` or `"crc32c-crate"`. For benchmark reports.
pub fn implementation() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if fold::available() {
        return "avx512-vpclmulqdq";
    }
    "crc32c-crate"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_3720_vectors_match() {
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(crc32c(&[0xFFu8; 32]), 0x62A8_AB43);
        let ascending: Vec<u8> = (0..32).collect();
        assert_eq!(crc32c(&ascending), 0x46DD_794E);
        let descending: Vec<u8> = (0..32).rev().collect();
        assert_eq!(crc32c(&descending), 0x113F_DB5C);
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn long_inputs_match_the_crc32c_crate() {
        let data: Vec<u8> = (0..100_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in [
            511, 512, 513, 575, 576, 767, 768, 1024, 4096, 65_537, 100_000,
        ] {
            assert_eq!(
                crc32c(&data[..len]),
                crc32c::crc32c(&data[..len]),
                "length {len}"
            );
            assert_eq!(
                crc32c_append(0xDEAD_BEEF, &data[3..len]),
                crc32c::crc32c_append(0xDEAD_BEEF, &data[3..len]),
                "length {len}, offset 3"
            );
        }
    }

    #[test]
    fn appending_pieces_equals_the_whole() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 31 + i / 7) as u8).collect();
        let whole = crc32c(&data);
        let (a, b) = data.split_at(1234);
        assert_eq!(crc32c_append(crc32c(a), b), whole);
    }

    #[test]
    fn combining_takes_any_length() {
        // The factor for 2^61 bytes and more comes from the table's last entries.
        for len in [1 << 61, u64::MAX] {
            let shifted = crc32c_combine(0x1234_5678, 0, len);
            assert_eq!(shifted, multiply(0x1234_5678, x_pow_8n(len)));
            assert_ne!(shifted, 0);
        }
        // x^(8·2^61) = x^(2^64), squared from x^(2^63).
        assert_eq!(x_pow_8n(1 << 61), X_POW_2K[64]);
        assert_eq!(X_POW_2K[64], multiply(X_POW_2K[63], X_POW_2K[63]));
    }

    #[test]
    fn combining_matches_the_crc32c_crate() {
        for (a, b, len) in [
            (0, 0, 0),
            (0xFFFF_FFFF, 1, 1),
            (0x1234_5678, 0x9ABC_DEF0, 1_000_000),
        ] {
            assert_eq!(
                crc32c_combine(a, b, len),
                crc32c::crc32c_combine(a, b, len as usize)
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        #[test]
        fn any_input_matches_the_crc32c_crate(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000),
            start in 0usize..64,
            crc in proptest::prelude::any::<u32>(),
        ) {
            let data = &data[start.min(data.len())..];
            proptest::prop_assert_eq!(crc32c_append(crc, data), crc32c::crc32c_append(crc, data));
        }

        #[test]
        fn combined_pieces_give_the_crc_of_the_whole(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000),
            split in 0usize..3000,
        ) {
            let (a, b) = data.split_at(split.min(data.len()));
            proptest::prop_assert_eq!(
                crc32c_combine(crc32c(a), crc32c(b), b.len() as u64),
                crc32c(&data)
            );
        }
    }
}
