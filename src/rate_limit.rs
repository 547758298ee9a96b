//! Request rate limits per key (a Claims IA client, a firm): the generic cell rate
//! algorithm (GCRA), a token bucket kept as one instant per key, in this instance's memory.
//! Nothing here knows about HTTP.
//!
//! A key's instant is its *theoretical arrival time*: when its bucket would be full again.
//! Each admitted request pushes it one emission interval (`1 / rate`) later; a request is
//! refused when that would put it more than `burst` intervals ahead of now. A refused
//! request changes nothing, and a key whose instant has passed is a full bucket, which is
//! what lets idle keys be forgotten.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use crate::clock::Clock;

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// Independent parts of the key map: requests of different keys rarely wait on one lock
/// word, and a key's first request write-locks one part only.
const SHARDS: usize = 16;

/// Keys a part holds before its idle keys are first swept out.
const SWEEP_FLOOR: usize = 256;

/// A rate and a burst, as emission interval and tolerance in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    interval: u64,
    tolerance: u64,
}

impl Quota {
    /// `per_second` requests per second on average, up to `burst` of them at once;
    /// `None` when `per_second` is 0, which means no limit.
    pub fn new(per_second: u32, burst: NonZeroU32) -> Option<Self> {
        let per_second = NonZeroU32::new(per_second)?;
        let interval = (NANOS_PER_SEC / u64::from(per_second.get())).max(1);
        Some(Self {
            interval,
            tolerance: interval * u64::from(burst.get()),
        })
    }

    /// The key's next theoretical arrival time if a request at `now` is admitted, or how
    /// long (ns) until it would be.
    fn admit(self, tat: u64, now: u64) -> Result<u64, u64> {
        let next = tat.max(now) + self.interval;
        let ahead = next - now;
        if ahead <= self.tolerance {
            Ok(next)
        } else {
            Err(ahead - self.tolerance)
        }
    }
}

/// One part of the key map, and the size at which it next sweeps its idle keys.
struct Shard {
    keys: HashMap<Box<str>, AtomicU64>,
    sweep_at: usize,
}

/// A [`Quota`] applied to each key separately.
///
/// The check takes a shared lock on one part of the map and updates the key's instant with
/// a compare-and-swap: requests of one key, or of many, do not wait for each other. Keys
/// whose bucket is full again are dropped whenever a part grows to twice what it held after
/// its last sweep, so the map holds at most about twice the keys active within the last
/// `burst / rate` seconds.
pub struct RateLimiter {
    quota: Quota,
    shards: Box<[RwLock<Shard>]>,
    hasher: RandomState,
    clock: Clock,
}

impl RateLimiter {
    /// A limiter of `quota` per key, on `clock`'s elapsed time.
    pub fn new(quota: Quota, clock: Clock) -> Self {
        let shards = (0..SHARDS)
            .map(|_| {
                RwLock::new(Shard {
                    keys: HashMap::new(),
                    sweep_at: SWEEP_FLOOR,
                })
            })
            .collect();
        Self {
            quota,
            shards,
            hasher: RandomState::new(),
            clock,
        }
    }

    /// Admits a request of `key`, or says how long until one would be admitted.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        let now = u64::try_from(self.clock.elapsed().as_nanos()).unwrap_or(u64::MAX);
        // Truncating the hash only picks a part.
        #[allow(clippy::cast_possible_truncation)]
        let shard = &self.shards[self.hasher.hash_one(key) as usize % SHARDS];
        {
            let shard = shard.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(tat) = shard.keys.get(key) {
                return self.take(tat, now);
            }
        }
        let mut shard = shard.write().unwrap_or_else(PoisonError::into_inner);
        if shard.keys.len() >= shard.sweep_at {
            shard.keys.retain(|_, tat| *tat.get_mut() > now);
            shard.sweep_at = (shard.keys.len() * 2).max(SWEEP_FLOOR);
        }
        let tat = shard.keys.entry(key.into()).or_insert(AtomicU64::new(0));
        self.take(tat, now)
    }

    fn take(&self, tat: &AtomicU64, now: u64) -> Result<(), Duration> {
        let mut current = tat.load(Ordering::Relaxed);
        loop {
            let next = self
                .quota
                .admit(current, now)
                .map_err(Duration::from_nanos)?;
            match tat.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Ok(()),
                Err(seen) => current = seen,
            }
        }
    }

    /// Keys held in memory.
    pub fn tracked(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(PoisonError::into_inner).keys.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(per_second: u32, burst: u32) -> Quota {
        Quota::new(per_second, NonZeroU32::new(burst).unwrap()).unwrap()
    }

    fn limiter(per_second: u32, burst: u32) -> (RateLimiter, Clock) {
        let clock = Clock::manual(chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap());
        (
            RateLimiter::new(quota(per_second, burst), clock.clone()),
            clock,
        )
    }

    #[test]
    fn a_rate_of_zero_is_no_limit() {
        assert_eq!(Quota::new(0, NonZeroU32::MIN), None);
    }

    #[test]
    fn a_fresh_key_passes_its_burst_at_once_then_waits_one_interval() {
        let (limiter, _) = limiter(10, 3);
        for _ in 0..3 {
            assert_eq!(limiter.check("a"), Ok(()));
        }
        assert_eq!(limiter.check("a"), Err(Duration::from_millis(100)));
    }

    #[test]
    fn the_wait_shrinks_as_time_passes_and_a_refusal_costs_nothing() {
        let (limiter, clock) = limiter(1, 2);
        limiter.check("a").unwrap();
        limiter.check("a").unwrap();
        clock.advance(Duration::from_millis(400));
        assert_eq!(limiter.check("a"), Err(Duration::from_millis(600)));
        assert_eq!(limiter.check("a"), Err(Duration::from_millis(600)));
        clock.advance(Duration::from_millis(599));
        assert_eq!(limiter.check("a"), Err(Duration::from_millis(1)));
        clock.advance(Duration::from_millis(1));
        assert_eq!(limiter.check("a"), Ok(()));
        assert!(limiter.check("a").is_err());
    }

    #[test]
    fn requests_at_the_rate_pass_for_ever() {
        let (limiter, clock) = limiter(4, 1);
        for _ in 0..1000 {
            assert_eq!(limiter.check("a"), Ok(()));
            clock.advance(Duration::from_millis(250));
        }
    }

    #[test]
    fn an_idle_key_earns_back_its_burst_and_no_more() {
        let (limiter, clock) = limiter(100, 5);
        for _ in 0..5 {
            limiter.check("a").unwrap();
        }
        clock.advance(Duration::from_secs(3600));
        for _ in 0..5 {
            assert_eq!(limiter.check("a"), Ok(()));
        }
        assert!(limiter.check("a").is_err());
    }

    #[test]
    fn keys_have_buckets_of_their_own() {
        let (limiter, _) = limiter(1, 1);
        assert_eq!(limiter.check("a"), Ok(()));
        assert!(limiter.check("a").is_err());
        assert_eq!(limiter.check("b"), Ok(()));
    }

    #[test]
    fn the_highest_rates_keep_a_nonzero_interval() {
        let q = quota(u32::MAX, 1);
        assert_eq!(q.interval, 1);
        assert_eq!(q.admit(0, 10), Ok(11));
    }

    #[test]
    fn concurrent_requests_of_one_key_share_its_burst_exactly() {
        let (limiter, _) = limiter(1, 100);
        let admitted = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..50 {
                        if limiter.check("a").is_ok() {
                            admitted.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        assert_eq!(admitted.into_inner(), 100);
    }

    #[test]
    fn idle_keys_are_forgotten_as_new_ones_come() {
        let (limiter, clock) = limiter(1000, 1);
        for round in 0..50 {
            for key in 0..1000 {
                limiter.check(&format!("{round}-{key}")).unwrap();
            }
            // Every bucket of this round is full again.
            clock.advance(Duration::from_millis(2));
        }
        assert!(
            limiter.tracked() <= 2 * 1000 + SHARDS * SWEEP_FLOOR,
            "{} keys held",
            limiter.tracked()
        );
    }

    #[test]
    fn active_keys_are_kept_through_a_sweep() {
        let (limiter, _) = limiter(1, 1);
        limiter.check("busy").unwrap();
        for key in 0..(SHARDS * SWEEP_FLOOR * 4) {
            // The clock does not move: every key stays active, none may be dropped.
            limiter.check(&key.to_string()).unwrap();
        }
        assert!(limiter.check("busy").is_err());
        assert_eq!(limiter.tracked(), 1 + SHARDS * SWEEP_FLOOR * 4);
    }
}
