//! A small seeded PRNG and stateless hashing, so the same seed gives the same fleet.
//!
//! The simulator draws ids and timings from [`Rng`] in a fixed order; log lines use
//! [`mix`] so they are a pure function of (seed, stream, time) and cost no memory.

/// SplitMix64: tiny, fast, and good enough for simulation (not for secrets).
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        finalize(self.0)
    }

    /// Uniform in `lo..=hi` (returns `lo` when the range is empty).
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo + 1) as u64;
        lo + (self.next_u64() % span) as i64
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    pub(crate) fn hex(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            let v = self.next_u64();
            for i in 0..16 {
                if s.len() == len {
                    break;
                }
                let nib = ((v >> (i * 4)) & 0xF) as u8;
                s.push(char::from(if nib < 10 {
                    b'0' + nib
                } else {
                    b'a' + nib - 10
                }));
            }
        }
        s
    }

    pub(crate) fn digits(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            let d = (self.next_u64() % 10) as u8;
            if s.is_empty() && d == 0 {
                continue;
            }
            s.push(char::from(b'0' + d));
        }
        s
    }

    /// A UUID-shaped id (version 4 layout), deterministic.
    pub(crate) fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-4{}-a{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            return None;
        }
        items.get((self.next_u64() % items.len() as u64) as usize)
    }
}

fn finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Stateless mixing of several words into one well-distributed value.
pub(crate) fn mix(parts: &[u64]) -> u64 {
    let mut h: u64 = 0x243F_6A88_85A3_08D3;
    for p in parts {
        h = finalize(h ^ finalize(p.wrapping_add(0x9E37_79B9_7F4A_7C15)));
    }
    h
}

/// FNV-1a of a string, used to turn names into hash inputs.
pub(crate) fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        assert_eq!(a.hex(32), b.hex(32));
        assert_eq!(a.range(0, 100), b.range(0, 100));
        assert_eq!(a.uuid().len(), 36);
    }
}
