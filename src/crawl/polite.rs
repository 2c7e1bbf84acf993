//! Politeness: a minimum spacing between requests to each host (with jitter), exponential
//! back-off, and the lock that keeps two runs apart.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};

pub use crate::fetch::limiter::HostLimiter;

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
