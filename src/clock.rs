//! The one source of time. The server, its workers, its caches and its store read the
//! clock they are given, so tests run on a clock they move instead of sleeping.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// Wall-clock time and elapsed time, from the system or set by hand.
#[derive(Clone)]
pub struct Clock(Arc<Source>);

enum Source {
    /// The system clock; elapsed time is measured from `origin`, monotonically.
    System { origin: Instant },
    /// Time that moves only when told: both readings move together.
    Manual {
        start: DateTime<Utc>,
        now: Mutex<DateTime<Utc>>,
    },
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(Arc::new(Source::System {
            origin: Instant::now(),
        }))
    }

    /// A clock that reads `start` until [`Clock::advance`] moves it.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self(Arc::new(Source::Manual {
            start,
            now: Mutex::new(start),
        }))
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        match &*self.0 {
            Source::System { .. } => Utc::now(),
            Source::Manual { now, .. } => *now.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// The current instant in milliseconds since the Unix epoch, as the store keeps it.
    pub fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// Time since this clock was made, never going back: what lifetimes are measured in,
    /// since the wall clock may be set back.
    pub fn elapsed(&self) -> Duration {
        match &*self.0 {
            Source::System { origin } => origin.elapsed(),
            Source::Manual { start, now } => {
                let now = *now.lock().unwrap_or_else(PoisonError::into_inner);
                (now - *start).to_std().unwrap_or_default()
            }
        }
    }

    /// Moves a manual clock forward; the system clock moves by itself, so there it does
    /// nothing.
    pub fn advance(&self, by: Duration) {
        if let Source::Manual { now, .. } = &*self.0 {
            let mut now = now.lock().unwrap_or_else(PoisonError::into_inner);
            *now += chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.0 {
            Source::System { .. } => f.write_str("Clock::System"),
            Source::Manual { .. } => write!(f, "Clock::Manual({})", self.now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let start = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let clock = Clock::manual(start);
        assert_eq!(clock.now(), start);
        assert_eq!(clock.elapsed(), Duration::ZERO);
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.now(), start + chrono::Duration::seconds(90));
        assert_eq!(clock.elapsed(), Duration::from_secs(90));
    }

    #[test]
    fn clones_share_one_time() {
        let clock = Clock::manual(DateTime::from_timestamp(0, 0).unwrap());
        let other = clock.clone();
        clock.advance(Duration::from_millis(1500));
        assert_eq!(other.now_ms(), 1500);
    }

    #[test]
    fn the_system_clock_reads_the_system_time() {
        let clock = Clock::system();
        let before = Utc::now();
        let read = clock.now();
        assert!(read >= before && read - before < chrono::Duration::seconds(5));
        clock.advance(Duration::from_secs(3600));
        assert!(clock.now() - before < chrono::Duration::seconds(5));
    }
}
