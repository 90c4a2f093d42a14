//! Running a reader in a child process and measuring what it cost: wall time, CPU time
//! (user and system, from `wait4`) and peak resident memory, so that the simulator running
//! in the benchmark's own process does not count.
//!
//! Peak memory is the child's `VmHWM` (`/proc/PID/status`), sampled every 10 ms while it
//! runs: `wait4`'s `ru_maxrss` cannot be used, because Linux carries the high-water mark of
//! the memory the child had before `exec` (a copy of this large process) into it.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a child process printed and cost.
#[derive(Debug, Clone)]
pub struct ChildRun {
    /// Exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Its standard output.
    pub stdout: String,
    /// The end of its standard error (for messages).
    pub stderr_tail: String,
    /// From spawn to exit.
    pub wall: Duration,
    /// User + system CPU time.
    pub cpu: Duration,
    /// Peak resident set size, in bytes.
    pub peak_rss: u64,
}

/// Runs `program args…` to completion (blocking: call it from `spawn_blocking`); standard
/// error goes to `stderr_file`.
pub fn run_child(program: &Path, args: &[String], stderr_file: &Path) -> anyhow::Result<ChildRun> {
    let stderr = std::fs::File::create(stderr_file)?;
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        // Every reader runs as documented (one thread); a variable of the caller's shell
        // must not change the results silently.
        .env_remove("PRESTALINK_THREADS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr))
        .spawn()?;
    let pid = child.id() as libc::pid_t;
    let peak = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, finished) = (peak.clone(), finished.clone());
        std::thread::spawn(move || {
            while !finished.load(Ordering::Acquire) {
                if let Some(hwm) = high_water_mark(pid) {
                    peak.fetch_max(hwm, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("piped stdout")
        .read_to_string(&mut stdout)?;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child, which has not been
    // waited for (std's Child is dropped without wait, which does not reap).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = loop {
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break r;
    };
    let wall = started.elapsed();
    finished.store(true, Ordering::Release);
    let _ = sampler.join();
    anyhow::ensure!(
        reaped == pid,
        "wait4 failed: {}",
        std::io::Error::last_os_error()
    );
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let cpu = timeval(usage.ru_utime) + timeval(usage.ru_stime);
    let text = std::fs::read_to_string(stderr_file).unwrap_or_default();
    let tail_start = text.len().saturating_sub(2000);
    let tail_start = (tail_start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    Ok(ChildRun {
        code,
        stdout,
        stderr_tail: text[tail_start..].to_string(),
        wall,
        cpu,
        peak_rss: peak.load(Ordering::Relaxed),
    })
}

/// `VmHWM` of a running process, in bytes (`None` once it has exited).
fn high_water_mark(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_child_process() {
        let dir = tempfile::tempdir().unwrap();
        let run = run_child(
            Path::new("/bin/sh"),
            &[
                "-c".to_string(),
                "echo hello; echo oops >&2; sleep 0.2; exit 3".to_string(),
            ],
            &dir.path().join("err"),
        )
        .unwrap();
        assert_eq!(run.code, Some(3));
        assert_eq!(run.stdout.trim(), "hello");
        assert_eq!(run.stderr_tail.trim(), "oops");
        assert!(run.peak_rss > 0);
    }
}
