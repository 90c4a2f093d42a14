//! The PHP-FPM pool: `workers` children take requests first come, first served; a request
//! that finds every child busy waits in a FIFO queue (PHP-FPM's listen backlog).

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// A FIFO pool of worker slots whose size can change while requests are being served.
/// Slot numbers are stable so busy time can be counted per worker.
#[derive(Debug)]
pub struct WorkerPool {
    state: Mutex<PoolState>,
}

#[derive(Debug)]
struct PoolState {
    workers: usize,
    free: BTreeSet<usize>,
    held: BTreeSet<usize>,
    waiters: VecDeque<oneshot::Sender<WorkerSlot>>,
}

/// A held worker slot; dropping it frees the worker for the next queued request.
#[derive(Debug)]
pub struct WorkerSlot {
    pool: Arc<WorkerPool>,
    index: usize,
    armed: bool,
}

impl WorkerSlot {
    /// The worker's number, `0..workers`.
    pub fn index(&self) -> usize {
        self.index
    }
}

impl Drop for WorkerSlot {
    fn drop(&mut self) {
        if self.armed {
            self.armed = false;
            self.pool.release(self.index);
        }
    }
}

impl WorkerPool {
    /// A pool of `workers` slots (at least one).
    pub fn new(workers: usize) -> Arc<WorkerPool> {
        let workers = workers.max(1);
        Arc::new(WorkerPool {
            state: Mutex::new(PoolState {
                workers,
                free: (0..workers).collect(),
                held: BTreeSet::new(),
                waiters: VecDeque::new(),
            }),
        })
    }

    /// Wait for a free worker, first come first served.
    pub async fn acquire(self: &Arc<Self>) -> WorkerSlot {
        let rx = {
            let mut st = self.state.lock().expect("pool lock");
            if let Some(index) = st.free.pop_first() {
                st.held.insert(index);
                return WorkerSlot {
                    pool: self.clone(),
                    index,
                    armed: true,
                };
            }
            let (tx, rx) = oneshot::channel();
            st.waiters.push_back(tx);
            rx
        };
        // Senders are only dropped by the pool itself, after handing over a slot.
        rx.await
            .expect("worker pool dropped while a request waited")
    }

    /// Requests waiting for a worker right now.
    pub fn queued(&self) -> usize {
        let st = self.state.lock().expect("pool lock");
        st.waiters.iter().filter(|w| !w.is_closed()).count()
    }

    /// Workers serving a request right now.
    pub fn busy(&self) -> usize {
        self.state.lock().expect("pool lock").held.len()
    }

    /// The current number of workers.
    pub fn workers(&self) -> usize {
        self.state.lock().expect("pool lock").workers
    }

    /// Change the number of workers; extra busy workers retire when their request ends.
    pub fn set_workers(self: &Arc<Self>, workers: usize) {
        let workers = workers.max(1);
        let mut st = self.state.lock().expect("pool lock");
        let old = st.workers;
        st.workers = workers;
        if workers < old {
            st.free.retain(|&i| i < workers);
            return;
        }
        for index in old..workers {
            // A slot still held from before a shrink is handed on when it is released.
            if !st.held.contains(&index) && !st.free.contains(&index) {
                self.give(&mut st, index);
            }
        }
    }

    fn release(self: &Arc<Self>, index: usize) {
        let mut st = self.state.lock().expect("pool lock");
        st.held.remove(&index);
        if index < st.workers {
            self.give(&mut st, index);
        }
    }

    /// Hand slot `index` to the oldest live waiter, or mark it free.
    fn give(self: &Arc<Self>, st: &mut PoolState, index: usize) {
        while let Some(tx) = st.waiters.pop_front() {
            st.held.insert(index);
            let slot = WorkerSlot {
                pool: self.clone(),
                index,
                armed: true,
            };
            match tx.send(slot) {
                Ok(()) => return,
                Err(mut slot) => {
                    // The waiter gave up; take the slot back without re-entering the lock.
                    slot.armed = false;
                    st.held.remove(&index);
                }
            }
        }
        st.free.insert(index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pool_queues_in_order_and_resizes() {
        let pool = WorkerPool::new(1);
        let first = pool.acquire().await;
        assert_eq!(first.index(), 0);
        let p2 = pool.clone();
        let waiter = tokio::spawn(async move { p2.acquire().await.index() });
        tokio::task::yield_now().await;
        while pool.queued() == 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(pool.busy(), 1);
        pool.set_workers(2);
        assert_eq!(
            waiter.await.unwrap(),
            1,
            "the new worker serves the queued request"
        );
        drop(first);
        assert_eq!(pool.busy(), 0);
        pool.set_workers(1);
        let a = pool.acquire().await;
        assert_eq!(a.index(), 0);
        assert_eq!(pool.busy(), 1);
    }
}
