//! Processor sharing: `cores` CPUs shared equally by the jobs running on them. With `n` jobs
//! each progresses at `min(1, cores / n)` of real time, so up to `cores` jobs run at full
//! speed and beyond that every one slows down in proportion (what Linux's scheduler does to
//! PHP-FPM children and MariaDB threads on a small machine). Nothing waits in a queue here:
//! queueing is the worker pool's business ([`super::WorkerPool`]).
//!
//! The mechanism is the classic virtual clock of egalitarian processor sharing: the clock
//! advances at the per-job rate, a job of `w` seconds of work that starts at virtual time `v`
//! finishes when the clock reaches `v + w`, so only the earliest finisher needs a timer. One
//! driver task sleeps until that moment (or until a job arrives or leaves and the rate
//! changes) and completes the jobs whose work is done; it exits when no job is left.
//! Hand-written: no maintained crate models a processor-sharing server for tokio.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;

/// A set of CPU cores shared equally by the jobs running on them.
#[derive(Debug)]
pub struct SharedCores {
    state: Mutex<State>,
    changed: Notify,
}

#[derive(Debug)]
struct State {
    cores: f64,
    /// Work every job present since the start would have received, in nanoseconds.
    virtual_now: f64,
    last: Instant,
    /// Running jobs by (virtual finish time in ns, arrival number).
    jobs: BTreeMap<(u64, u64), oneshot::Sender<()>>,
    next_seq: u64,
    driver_running: bool,
    /// Core-seconds used since the start (the integral of `min(cores, jobs)`).
    used: Duration,
}

/// Work left below this is done (rounding of the virtual clock).
const EPSILON_NS: f64 = 1_000.0;

impl State {
    /// Per-job progress rate with the jobs present now.
    fn rate(&self) -> f64 {
        let n = self.jobs.len() as f64;
        if n == 0.0 {
            0.0
        } else {
            (self.cores / n).min(1.0)
        }
    }

    /// Move the virtual clock to `now` and complete the jobs whose work is done.
    fn advance(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.last);
        self.last = now;
        let n = self.jobs.len() as f64;
        if n > 0.0 {
            self.virtual_now += dt.as_nanos() as f64 * self.rate();
            self.used += dt.mul_f64(self.cores.min(n));
        }
        while let Some(entry) = self.jobs.first_entry() {
            if entry.key().0 as f64 > self.virtual_now + EPSILON_NS {
                break;
            }
            // The waiter may have gone; its job is finished either way.
            let _ = entry.remove().send(());
        }
    }

    /// When the earliest job finishes at the current rate, if any job runs.
    fn next_finish(&self) -> Option<Instant> {
        let (&(finish, _), _) = self.jobs.first_key_value()?;
        let left_ns = (finish as f64 - self.virtual_now).max(0.0) / self.rate();
        Some(self.last + Duration::from_nanos(left_ns.ceil() as u64))
    }
}

impl SharedCores {
    /// `cores` CPUs (fractions allowed: 0.5 is one core at half speed; at least 0.01).
    pub fn new(cores: f64) -> Arc<SharedCores> {
        Arc::new(SharedCores {
            state: Mutex::new(State {
                cores: sanitize(cores),
                virtual_now: 0.0,
                last: Instant::now(),
                jobs: BTreeMap::new(),
                next_seq: 0,
                driver_running: false,
                used: Duration::ZERO,
            }),
            changed: Notify::new(),
        })
    }

    /// Runs `work` seconds of CPU work, sharing the cores with the other jobs; returns when
    /// it is done. Dropping the future withdraws the job (the others speed up).
    pub async fn run(self: &Arc<Self>, work: Duration) {
        if work.is_zero() {
            return;
        }
        let (tx, rx) = oneshot::channel();
        let key = {
            let mut st = self.lock();
            st.advance(Instant::now());
            let finish = st.virtual_now + work.as_nanos() as f64;
            let key = (finish.ceil() as u64, st.next_seq);
            st.next_seq += 1;
            st.jobs.insert(key, tx);
            if !st.driver_running {
                st.driver_running = true;
                tokio::spawn(drive(self.clone()));
            }
            key
        };
        self.changed.notify_one();
        let mut job = Job {
            cores: self,
            key,
            done: false,
        };
        // The driver never drops a sender without sending: an error means it was stopped
        // with the runtime, and there is nothing left to wait for.
        let _ = rx.await;
        job.done = true;
    }

    /// Jobs running now.
    pub fn running(&self) -> usize {
        self.lock().jobs.len()
    }

    /// The number of cores.
    pub fn cores(&self) -> f64 {
        self.lock().cores
    }

    /// Change the number of cores from now on (a noisy neighbour, a scale-up).
    pub fn set_cores(&self, cores: f64) {
        {
            let mut st = self.lock();
            st.advance(Instant::now());
            st.cores = sanitize(cores);
        }
        self.changed.notify_one();
    }

    /// Core-seconds used since the start.
    pub fn used(&self) -> Duration {
        let mut st = self.lock();
        st.advance(Instant::now());
        st.used
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("cores lock")
    }
}

fn sanitize(cores: f64) -> f64 {
    if cores.is_finite() {
        cores.max(0.01)
    } else {
        1.0
    }
}

/// A job on the cores; withdrawn when dropped before it finished.
struct Job<'a> {
    cores: &'a Arc<SharedCores>,
    key: (u64, u64),
    done: bool,
}

impl Drop for Job<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        {
            let mut st = self.cores.lock();
            st.advance(Instant::now());
            st.jobs.remove(&self.key);
        }
        self.cores.changed.notify_one();
    }
}

/// The driver: completes jobs when their work is done; exits when none is left.
async fn drive(cores: Arc<SharedCores>) {
    loop {
        let deadline = {
            let mut st = cores.lock();
            st.advance(Instant::now());
            match st.next_finish() {
                Some(at) => at,
                None => {
                    st.driver_running = false;
                    return;
                }
            }
        };
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => {}
            _ = cores.changed.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Runs jobs of `works` starting together; returns each one's latency.
    async fn together(cores: &Arc<SharedCores>, works: &[Duration]) -> Vec<Duration> {
        let start = Instant::now();
        let tasks: Vec<_> = works
            .iter()
            .map(|&w| {
                let cores = cores.clone();
                tokio::spawn(async move {
                    cores.run(w).await;
                    start.elapsed()
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    }

    fn near(actual: Duration, expected: Duration) -> bool {
        actual.abs_diff(expected) <= ms(1)
    }

    #[tokio::test(start_paused = true)]
    async fn two_jobs_on_one_core_take_twice_as_long_each() {
        let cores = SharedCores::new(1.0);
        let alone = together(&cores, &[ms(100)]).await;
        assert!(near(alone[0], ms(100)), "{alone:?}");
        let two = together(&cores, &[ms(100), ms(100)]).await;
        assert!(two.iter().all(|&t| near(t, ms(200))), "{two:?}");
        assert!(near(cores.used(), ms(300)));
    }

    #[tokio::test(start_paused = true)]
    async fn up_to_the_cores_jobs_run_at_full_speed() {
        let cores = SharedCores::new(2.0);
        let two = together(&cores, &[ms(100), ms(100)]).await;
        assert!(two.iter().all(|&t| near(t, ms(100))), "{two:?}");
        // Four jobs on two cores: half speed each.
        let four = together(&cores, &[ms(100); 4]).await;
        assert!(four.iter().all(|&t| near(t, ms(200))), "{four:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_short_job_leaves_early_and_the_long_one_speeds_up() {
        // One core: both at half speed for 100 ms (the short one's 50 ms done), then the
        // long one alone for its last 100 ms.
        let cores = SharedCores::new(1.0);
        let t = together(&cores, &[ms(50), ms(150)]).await;
        assert!(near(t[0], ms(100)), "{t:?}");
        assert!(near(t[1], ms(200)), "{t:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_withdrawn_job_frees_its_share() {
        let cores = SharedCores::new(1.0);
        let start = Instant::now();
        let long = {
            let cores = cores.clone();
            tokio::spawn(async move {
                cores.run(ms(100)).await;
                start.elapsed()
            })
        };
        let quitter = {
            let cores = cores.clone();
            tokio::spawn(async move { cores.run(ms(1_000)).await })
        };
        tokio::time::sleep(ms(40)).await;
        quitter.abort();
        let _ = quitter.await;
        // 40 ms at half speed (20 ms done), then 80 ms alone.
        assert!(near(long.await.unwrap(), ms(120)));
        assert_eq!(cores.running(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn more_cores_mid_job_speed_it_up() {
        let cores = SharedCores::new(1.0);
        let start = Instant::now();
        let jobs: Vec<_> = (0..2)
            .map(|_| {
                let cores = cores.clone();
                tokio::spawn(async move {
                    cores.run(ms(100)).await;
                    start.elapsed()
                })
            })
            .collect();
        tokio::time::sleep(ms(100)).await;
        cores.set_cores(2.0);
        // 100 ms at half speed (50 ms done each), then 50 ms at full speed.
        for j in jobs {
            assert!(near(j.await.unwrap(), ms(150)));
        }
        assert_eq!(cores.cores(), 2.0);
    }
}
