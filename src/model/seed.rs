//! Seeded mixing: one well-spread 64-bit value from another, so that everything drawn "from the
//! seed" (the request sequence, the order of interleaved pairs, flow data) is the same on every
//! path and every run with that seed.

/// SplitMix64's output function: a bijection of `u64` that spreads nearby inputs far apart.
pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}
