//! Connect's sampled statistics (two samples of `metrics.sample.window.ms` = 30 s),
//! computed when `/metrics` is scraped from counters the engine only adds to.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Length of one sample window (Connect's `metrics.sample.window.ms` default).
pub const SAMPLE_WINDOW: Duration = Duration::from_secs(30);

/// Counters read together at one instant.
#[derive(Clone, Debug)]
pub struct Snapshot<const N: usize> {
    /// When they were read.
    pub at: Instant,
    /// Their values.
    pub values: [u64; N],
}

impl<const N: usize> Snapshot<N> {
    /// Reads `counters` now.
    pub fn read(counters: &[AtomicU64; N], at: Instant) -> Self {
        Snapshot {
            at,
            values: std::array::from_fn(|i| counters[i].load(Relaxed)),
        }
    }
}

/// The baselines of the two windows Connect keeps: rates and averages are taken
/// against the start of the previous window (30 to 60 s of history), maxima over
/// the previous and the current window.
#[derive(Debug)]
pub struct Windows<const N: usize, const M: usize> {
    previous: Snapshot<N>,
    current: Snapshot<N>,
    previous_max: [u64; M],
}

impl<const N: usize, const M: usize> Windows<N, M> {
    /// Windows starting at `start` with every counter at zero.
    pub fn new(start: Instant) -> Self {
        let zero = Snapshot {
            at: start,
            values: [0; N],
        };
        Windows {
            previous: zero.clone(),
            current: zero,
            previous_max: [0; M],
        }
    }

    /// Moves to a new window when the current one is older than [`SAMPLE_WINDOW`],
    /// then returns the baseline and the maxima to report. `maxes` are reset when
    /// a window closes.
    pub fn advance(&mut self, now: &Snapshot<N>, maxes: &[AtomicU64; M]) -> (&Snapshot<N>, [u64; M]) {
        if now.at.duration_since(self.current.at) >= SAMPLE_WINDOW {
            self.previous = std::mem::replace(&mut self.current, now.clone());
            self.previous_max = std::array::from_fn(|i| maxes[i].swap(0, Relaxed));
        }
        let max = std::array::from_fn(|i| self.previous_max[i].max(maxes[i].load(Relaxed)));
        (&self.previous, max)
    }
}

/// Per second between `base` and `now` for counter `i` (0 when no time passed).
pub fn rate<const N: usize>(base: &Snapshot<N>, now: &Snapshot<N>, i: usize) -> f64 {
    let secs = now.at.duration_since(base.at).as_secs_f64();
    if secs <= 0.0 {
        return 0.0;
    }
    now.values[i].saturating_sub(base.values[i]) as f64 / secs
}

/// The average of `sum` per `count` since `base` (NaN when nothing was recorded, as
/// Connect's `Avg` gives).
pub fn average<const N: usize>(base: &Snapshot<N>, now: &Snapshot<N>, sum: usize, count: usize) -> f64 {
    let n = now.values[count].saturating_sub(base.values[count]);
    if n == 0 {
        return f64::NAN;
    }
    now.values[sum].saturating_sub(base.values[sum]) as f64 / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_maxima_cover_the_previous_and_current_window() {
        let t0 = Instant::now();
        let counters = [AtomicU64::new(0), AtomicU64::new(0)];
        let maxes = [AtomicU64::new(0)];
        let mut w: Windows<2, 1> = Windows::new(t0);
        counters[0].store(100, Relaxed);
        maxes[0].fetch_max(7, Relaxed);
        let now = Snapshot {
            at: t0 + Duration::from_secs(10),
            values: [100, 0],
        };
        let (base, max) = w.advance(&now, &maxes);
        assert_eq!(rate(base, &now, 0), 10.0);
        assert_eq!(max, [7]);
        assert!(average(base, &now, 1, 0) == 0.0);
        // 35 s: a new window starts; the old maximum is still reported.
        let now = Snapshot {
            at: t0 + Duration::from_secs(35),
            values: [400, 0],
        };
        let (base, max) = w.advance(&now, &maxes);
        assert_eq!(rate(base, &now, 0), 400.0 / 35.0);
        assert_eq!(max, [7]);
        maxes[0].fetch_max(3, Relaxed);
        // 70 s: the baseline is the 35 s snapshot, the 7 has left both windows.
        let now = Snapshot {
            at: t0 + Duration::from_secs(70),
            values: [400, 0],
        };
        let (base, max) = w.advance(&now, &maxes);
        assert_eq!(rate(base, &now, 0), 0.0);
        assert_eq!(max, [3]);
        assert!(average(base, &now, 1, 0).is_nan());
    }
}
