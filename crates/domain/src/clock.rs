//! The clock as a dependency: the domain never reads time itself, and tests control it.

use std::sync::{Mutex, MutexGuard};
use time::{Duration, OffsetDateTime};

pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
}

/// A clock that stands still until told otherwise.
#[derive(Debug)]
pub struct FixedClock(Mutex<OffsetDateTime>);

impl FixedClock {
    pub fn new(t: OffsetDateTime) -> Self {
        Self(Mutex::new(t))
    }

    pub fn set(&self, t: OffsetDateTime) {
        *self.lock() = t;
    }

    pub fn advance(&self, by: Duration) {
        let mut guard = self.lock();
        *guard += by;
    }

    // A panic elsewhere while holding the lock cannot leave a timestamp half-written, so a
    // poisoned lock is still safe to use.
    fn lock(&self) -> MutexGuard<'_, OffsetDateTime> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        *self.lock()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use time::macros::datetime;

    #[test]
    fn fixed_clock_stands_still_and_moves_when_told() {
        let clock = FixedClock::new(datetime!(2020-04-13 00:00 +8));
        assert_eq!(clock.now(), datetime!(2020-04-13 00:00 +8));
        assert_eq!(clock.now(), clock.now());
        clock.advance(Duration::minutes(90));
        assert_eq!(clock.now(), datetime!(2020-04-13 01:30 +8));
        clock.set(datetime!(2020-04-29 00:00 +8));
        assert_eq!(clock.now(), datetime!(2020-04-28 16:00 UTC));
    }

    #[test]
    fn works_behind_shared_pointers() {
        let clock = Arc::new(FixedClock::new(datetime!(2020-01-01 00:00 UTC)));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        clock.advance(Duration::seconds(1));
        assert_eq!(dyn_clock.now(), datetime!(2020-01-01 00:00:01 UTC));
        fn read(c: impl Clock) -> OffsetDateTime {
            c.now()
        }
        assert_eq!(read(&*clock), datetime!(2020-01-01 00:00:01 UTC));
    }

    #[test]
    fn survives_a_poisoned_lock() {
        let clock = Arc::new(FixedClock::new(datetime!(2020-01-01 00:00 UTC)));
        let c = clock.clone();
        let _ = std::thread::spawn(move || {
            let _guard = c.0.lock().unwrap();
            panic!("poison the lock");
        })
        .join();
        assert!(clock.0.is_poisoned());
        clock.advance(Duration::days(1));
        assert_eq!(clock.now(), datetime!(2020-01-02 00:00 UTC));
    }
}
