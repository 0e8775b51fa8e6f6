//! A small log-bucketed latency histogram in microseconds (HDR-style): values below 128 µs are
//! exact; above, each power of two is split into 64 buckets, so any recorded value is known to
//! within 1/64 (about 1.6 %). Fixed size, mergeable, no allocation per record.

const SUB_BITS: u32 = 6;
const SUB: usize = 1 << SUB_BITS; // 64 buckets per power of two
const LINEAR: u64 = 2 * SUB as u64; // 0..128 µs are exact
const MAX_EXP: u32 = 40; // about 12 days in µs; larger values are clamped
const BUCKETS: usize = LINEAR as usize + (MAX_EXP as usize - SUB_BITS as usize) * SUB;

#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
    sum: u128,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: vec![0; BUCKETS], total: 0, max: 0, sum: 0 }
    }
}

fn index(v: u64) -> usize {
    if v < LINEAR {
        return usize::try_from(v).unwrap_or(0);
    }
    let exp = 63 - v.leading_zeros(); // v in [2^exp, 2^(exp+1))
    if exp >= MAX_EXP {
        return BUCKETS - 1;
    }
    let sub = (v >> (exp - SUB_BITS)) & (SUB as u64 - 1);
    let i = LINEAR as usize + (exp as usize - SUB_BITS as usize - 1) * SUB + usize::try_from(sub).unwrap_or(0);
    i.min(BUCKETS - 1)
}

/// The highest value that falls in bucket `i` (percentiles are reported as this upper edge).
fn upper(i: usize) -> u64 {
    if (i as u64) < LINEAR {
        return i as u64;
    }
    let k = i - LINEAR as usize;
    let exp = (k / SUB) as u32 + SUB_BITS + 1;
    let sub = (k % SUB) as u64;
    let lower = (SUB as u64 + sub) << (exp - SUB_BITS);
    lower + (1u64 << (exp - SUB_BITS)) - 1
}

impl Histogram {
    pub fn record(&mut self, micros: u64) {
        if let Some(c) = self.counts.get_mut(index(micros)) {
            *c += 1;
        }
        self.total += 1;
        self.max = self.max.max(micros);
        self.sum += u128::from(micros);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
        self.sum += other.sum;
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    pub fn mean(&self) -> f64 {
        if self.total == 0 { 0.0 } else { self.sum as f64 / self.total as f64 }
    }

    /// The value at quantile `q` (0..=1): the upper edge of the bucket holding it, never above max.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return upper(i).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_ordered_and_tight() {
        let mut last = 0;
        for v in (0..5_000_000u64).step_by(7) {
            let i = index(v);
            assert!(i >= last, "monotonic at {v}");
            last = i;
            assert!(upper(i) >= v, "upper edge covers {v}");
            assert!((upper(i) - v) as f64 <= v as f64 / 64.0 + 1.0, "within 1/64 at {v}");
        }
    }

    #[test]
    fn quantiles() {
        let mut h = Histogram::default();
        for v in 1..=10_000u64 {
            h.record(v);
        }
        let p50 = h.quantile(0.5);
        assert!((4_950..=5_100).contains(&p50), "{p50}");
        let p99 = h.quantile(0.99);
        assert!((9_850..=10_000).contains(&p99), "{p99}");
        assert_eq!(h.quantile(1.0), 10_000);
        let mut other = Histogram::default();
        other.record(50_000);
        h.merge(&other);
        assert_eq!(h.max(), 50_000);
        assert_eq!(h.count(), 10_001);
    }
}
