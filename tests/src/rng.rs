//! A small deterministic random number generator for benchmarks: the same instances
//! every run, so runs compare.

/// xorshift64*.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// The generator every benchmark starts from.
    pub fn new() -> Self {
        Self(0x9e37_79b9_7f4a_7c15)
    }

    /// A number in `0..n` (`0` when `n` is not positive).
    pub fn below(&mut self, n: i64) -> i64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1) as u64) as i64
    }
}

impl Default for Rng {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn the_same_sequence_every_time_within_bounds() {
        let (mut a, mut b) = (Rng::new(), Rng::new());
        for n in [1, 7, 1000, i64::MAX] {
            let x = a.below(n);
            assert_eq!(x, b.below(n));
            assert!((0..n).contains(&x));
        }
        assert_eq!(a.below(0), 0);
    }
}
