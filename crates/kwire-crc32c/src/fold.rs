//! CRC-32C by folding with 512-bit carry-less multiplication (x86-64, AVX-512 with
//! VPCLMULQDQ).
//!
//! The input is read as a polynomial over GF(2). Folding replaces 128 bits at some position
//! with 128 bits further on that leave the remainder modulo the CRC polynomial P unchanged:
//! the high 64 bits times (x^(D+32) mod P) plus the low 64 bits times (x^(D−32) mod P), for a
//! distance of D bits (Kafka's CRC is bit-reflected, hence the shifted, reversed constants).
//! Four 512-bit accumulators (sixteen 128-bit lanes) fold 256 bytes per round; at the end the
//! lanes are folded into one 128-bit value with the same remainder as everything before it,
//! and the [`crc32c`] crate finishes the CRC over those 16 bytes and the input's tail.

#![allow(unsafe_code)]

use std::arch::x86_64::{
    __m512i, _mm512_clmulepi64_epi128, _mm512_extracti32x4_epi32, _mm512_loadu_si512,
    _mm512_maskz_set1_epi32, _mm512_set_epi64, _mm512_ternarylogic_epi64, _mm512_xor_si512,
    _mm_cvtsi128_si64, _mm_extract_epi64, _mm_xor_si128,
};

/// Whether this CPU can run [`fold_512`].
pub(crate) fn available() -> bool {
    is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("vpclmulqdq")
}

/// `crc32c::crc32c_append(crc, data)`, computed by folding; `None` when the CPU lacks the
/// instructions or `data` is shorter than 256 bytes.
pub(crate) fn crc32c_append(crc: u32, data: &[u8]) -> Option<u32> {
    if data.len() < 256 || !available() {
        return None;
    }
    // SAFETY: `fold_512` needs AVX-512F and VPCLMULQDQ, which `available` just found.
    Some(unsafe { fold_512(crc, data) })
}

/// x^n mod P for the CRC-32C polynomial P = 0x1_1EDC_6F41, in normal bit order.
const fn x_pow_mod_p(n: u32) -> u32 {
    let mut r: u64 = 1;
    let mut i = 0;
    while i < n {
        r <<= 1;
        if r & (1 << 32) != 0 {
            r ^= 0x1_1EDC_6F41;
        }
        i += 1;
    }
    r as u32
}

/// x^n mod P as a multiplier of reflected 64-bit halves: bit-reversed and shifted left by
/// one, so that the 127-bit products of reflected operands land where the next 128 bits are.
const fn constant(n: u32) -> i64 {
    ((x_pow_mod_p(n).reverse_bits() as u64) << 1) as i64
}

/// The multipliers (for the low and the high 64 bits of a 128-bit lane) that move a lane
/// `bits` further on; computed at compile time.
const fn multipliers(bits: u32) -> (i64, i64) {
    (constant(bits + 32), constant(bits - 32))
}

const BY_64_BYTES: (i64, i64) = multipliers(512);
const BY_256_BYTES: (i64, i64) = multipliers(2048);
const BY_48_BYTES: (i64, i64) = multipliers(384);
const BY_32_BYTES: (i64, i64) = multipliers(256);
const BY_16_BYTES: (i64, i64) = multipliers(128);

/// `(low, high)` multipliers in every 128-bit lane.
#[inline]
#[target_feature(enable = "avx512f")]
fn broadcast((low, high): (i64, i64)) -> __m512i {
    _mm512_set_epi64(high, low, high, low, high, low, high, low)
}

/// `acc` folded onto `next`, which lies as many bits further on as `k` was made for.
#[inline]
#[target_feature(enable = "avx512f,vpclmulqdq")]
fn fold(acc: __m512i, k: __m512i, next: __m512i) -> __m512i {
    let low = _mm512_clmulepi64_epi128(acc, k, 0x00);
    let high = _mm512_clmulepi64_epi128(acc, k, 0x11);
    // 0x96: the three-way exclusive or.
    _mm512_ternarylogic_epi64(low, high, next, 0x96)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn load(block: &[u8; 64]) -> __m512i {
    // SAFETY: `block` is 64 readable bytes, and `_mm512_loadu_si512` needs no alignment.
    unsafe { _mm512_loadu_si512(block.as_ptr().cast()) }
}

/// The CRC-32C of `data` (at least 256 bytes) appended to bytes whose CRC-32C is `crc`.
#[target_feature(enable = "avx512f,vpclmulqdq")]
fn fold_512(crc: u32, data: &[u8]) -> u32 {
    let (blocks, tail) = data.as_chunks::<64>();
    let [b0, b1, b2, b3, rest @ ..] = blocks else {
        return crc32c::crc32c_append(crc, data);
    };

    // The CRC register starts as the complement of `crc`; folding it into the first four
    // bytes gives the same remainder as running the register over them.
    let start = _mm512_maskz_set1_epi32(1, !crc as i32);
    let mut x = [
        _mm512_xor_si512(load(b0), start),
        load(b1),
        load(b2),
        load(b3),
    ];

    let by_256_bytes = broadcast(BY_256_BYTES);
    let (rounds, rest) = rest.as_chunks::<4>();
    for round in rounds {
        for (acc, block) in x.iter_mut().zip(round) {
            *acc = fold(*acc, by_256_bytes, load(block));
        }
    }

    let by_64_bytes = broadcast(BY_64_BYTES);
    let mut acc = fold(x[0], by_64_bytes, x[1]);
    acc = fold(acc, by_64_bytes, x[2]);
    acc = fold(acc, by_64_bytes, x[3]);
    for block in rest {
        acc = fold(acc, by_64_bytes, load(block));
    }

    // Lanes 0, 1 and 2 move 384, 256 and 128 bits on, onto lane 3.
    let k = _mm512_set_epi64(
        0,
        0,
        BY_16_BYTES.1,
        BY_16_BYTES.0,
        BY_32_BYTES.1,
        BY_32_BYTES.0,
        BY_48_BYTES.1,
        BY_48_BYTES.0,
    );
    let moved = _mm512_xor_si512(
        _mm512_clmulepi64_epi128(acc, k, 0x00),
        _mm512_clmulepi64_epi128(acc, k, 0x11),
    );
    let last = _mm_xor_si128(
        _mm_xor_si128(
            _mm512_extracti32x4_epi32::<0>(moved),
            _mm512_extracti32x4_epi32::<1>(moved),
        ),
        _mm_xor_si128(
            _mm512_extracti32x4_epi32::<2>(moved),
            _mm512_extracti32x4_epi32::<3>(acc),
        ),
    );

    // These 16 bytes have the remainder of everything folded so far; a CRC register that
    // starts at zero (complement of !0) over them gives that remainder's CRC.
    let mut remainder = [0u8; 16];
    remainder[..8].copy_from_slice(&_mm_cvtsi128_si64(last).to_le_bytes());
    remainder[8..].copy_from_slice(&_mm_extract_epi64::<1>(last).to_le_bytes());
    let crc = crc32c::crc32c_append(!0, &remainder);
    crc32c::crc32c_append(crc, tail)
}

#[cfg(test)]
mod tests {
    #[test]
    fn folding_is_used_where_the_cpu_has_it_and_matches_the_crc32c_crate() {
        let data: Vec<u8> = (0..6000u32)
            .map(|i| (i.wrapping_mul(40_503) >> 5) as u8)
            .collect();
        // Lengths around each step: 256 (the minimum), 64-byte blocks left after the rounds
        // of 256, and a tail of 1 to 63 bytes.
        for len in [
            0, 255, 256, 257, 319, 320, 448, 511, 512, 575, 767, 768, 1000, 5997,
        ] {
            for offset in 0..3 {
                let piece = &data[offset..offset + len];
                let folded = super::crc32c_append(0x1234_5678, piece);
                assert_eq!(
                    folded.is_some(),
                    len >= 256 && super::available(),
                    "length {len}"
                );
                if let Some(crc) = folded {
                    assert_eq!(
                        crc,
                        crc32c::crc32c_append(0x1234_5678, piece),
                        "length {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_folding_constants_are_the_published_ones() {
        // x^(D+32) and x^(D-32) mod P for D = 128 and 512 bits, reflected and shifted, as in
        // the Intel paper's CRC-32C tables (and Linux's crc32c-pcl-intel, zlib-ng, ...).
        assert_eq!(super::BY_16_BYTES, (0x0_F20C_0DFE, 0x1_4CD0_0BD6));
        assert_eq!(super::BY_64_BYTES, (0x0_740E_EF02, 0x0_9E4A_DDF8));
    }
}
