//! Politeness: a minimum spacing between requests to each host (with jitter), exponential
//! back-off, and the lock that keeps two runs apart.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Spaces requests per host: at least `interval` (plus up to `jitter` of it, at random)
/// between the start of one request and the next.
#[derive(Debug)]
pub struct HostLimiter {
    last: HashMap<String, Instant>,
    intervals: HashMap<String, Duration>,
    default_interval: Duration,
    jitter: f64,
    seed: u64,
}

impl HostLimiter {
    /// A limiter with a default spacing; `jitter` is a fraction (0.5 adds up to half again).
    pub fn new(default_interval: Duration, jitter: f64) -> HostLimiter {
        let seed =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64) | 1;
        HostLimiter {
            last: HashMap::new(),
            intervals: HashMap::new(),
            default_interval,
            jitter: jitter.clamp(0.0, 4.0),
            seed,
        }
    }

    /// Sets the spacing of one host.
    pub fn set_interval(&mut self, host: &str, interval: Duration) {
        self.intervals.insert(host.to_string(), interval);
    }

    /// How long to wait before the next request to `host` may start.
    pub fn wait_for(&mut self, host: &str, now: Instant) -> Duration {
        let Some(&last) = self.last.get(host) else { return Duration::ZERO };
        let base = *self.intervals.get(host).unwrap_or(&self.default_interval);
        let spacing = base.mul_f64(1.0 + self.jitter * self.random());
        (last + spacing).saturating_duration_since(now)
    }

    /// Waits (asynchronously) until a request to `host` may start, and marks it started.
    pub async fn acquire(&mut self, host: &str) {
        let wait = self.wait_for(host, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        self.last.insert(host.to_string(), Instant::now());
    }

    /// A number in [0, 1) from a xorshift generator: jitter needs spread, not secrecy.
    fn random(&mut self) -> f64 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        (self.seed >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The wait before attempt `attempts + 1` after a transient failure: `base · 2^attempts`, at
/// most a day.
pub fn backoff(base: Duration, attempts: i64) -> Duration {
    let factor = 2u32.saturating_pow(attempts.clamp(0, 20) as u32);
    base.saturating_mul(factor).min(Duration::from_secs(86_400))
}

/// An exclusive lock on a file, held while the value lives. The operating system releases it
/// when the process ends, however it ends, so a killed run leaves no stale lock behind.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

impl Lock {
    /// Takes the lock, or says who holds it.
    pub fn acquire(path: &Path) -> Result<Lock> {
        let werr = |source| Error::Write { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(werr)?;
        }
        let mut file =
            std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).map_err(werr)?;
        match file.try_lock() {
            Ok(()) => {
                file.set_len(0).map_err(werr)?;
                file.rewind().map_err(werr)?;
                writeln!(file, "{}", std::process::id()).map_err(werr)?;
                Ok(Lock { _file: file })
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                Err(Error::Locked { path: path.to_path_buf(), pid: text.trim().parse().ok() })
            }
            Err(std::fs::TryLockError::Error(e)) => Err(werr(e)),
        }
    }
}

/// The lock file of a state file.
pub fn lock_path(state: &Path) -> PathBuf {
    let mut name = state.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    state.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacing_and_jitter() {
        let mut l = HostLimiter::new(Duration::from_secs(3), 0.5);
        let t0 = Instant::now();
        assert_eq!(l.wait_for("a", t0), Duration::ZERO);
        l.last.insert("a".into(), t0);
        for _ in 0..100 {
            let w = l.wait_for("a", t0);
            assert!(w >= Duration::from_secs(3) && w <= Duration::from_millis(4500), "{w:?}");
        }
        assert_eq!(l.wait_for("b", t0), Duration::ZERO);
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(Duration::from_secs(60), 0), Duration::from_secs(60));
        assert_eq!(backoff(Duration::from_secs(60), 3), Duration::from_secs(480));
        assert_eq!(backoff(Duration::from_secs(60), 99), Duration::from_secs(86_400));
    }

    #[test]
    fn a_second_lock_is_refused_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.sqlite.lock");
        let first = Lock::acquire(&p).unwrap();
        match Lock::acquire(&p) {
            Err(Error::Locked { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("{other:?}"),
        }
        drop(first);
        Lock::acquire(&p).unwrap();
    }
}
