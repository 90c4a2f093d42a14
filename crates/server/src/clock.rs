//! The server's clock: the system clock in production, a clock that tests move by hand (the
//! scheduler, leases and webhook retries all read it).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

/// A cheaply cloneable clock.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Milliseconds added to the system time (tests only).
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// Now, as this clock sees it.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves the clock forward (tests: lets a schedule or a retry come due at once).
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}
