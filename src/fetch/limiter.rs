//! Politeness towards each host: a minimum spacing between one answer and the next request (with
//! jitter), a pause that a `429` or `503` imposes on every request to that host, and a wider spacing for
//! the rest of the run once a host has asked for less. Every request the [`super::Fetcher`] sends
//! to a host (each redirect hop too) takes its turn here, so the spacing holds whoever asks:
//! `crawl`, `import`, a feed poll.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Spaces requests per host: at least the host's interval (plus up to `jitter` of it, at
/// random) after the start of one request, and after its answer when [`HostLimiter::finished`]
/// is told of it, before the next; and none before a pause ends.
#[derive(Debug)]
pub struct HostLimiter {
    last: HashMap<String, Instant>,
    intervals: HashMap<String, Duration>,
    paused: HashMap<String, Instant>,
    default_interval: Duration,
    jitter: f64,
    seed: u64,
}

/// How far a host's spacing is widened at most after it asked for less (`429`, `503`): this
/// many times the configured spacing, and never past a minute.
const MAX_WIDENING: u32 = 8;
const MAX_WIDENED: Duration = Duration::from_secs(60);

impl HostLimiter {
    /// A limiter with a default spacing; `jitter` is a fraction (0.5 adds up to half again).
    pub fn new(default_interval: Duration, jitter: f64) -> HostLimiter {
        let seed =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64) | 1;
        HostLimiter {
            last: HashMap::new(),
            intervals: HashMap::new(),
            paused: HashMap::new(),
            default_interval,
            jitter: jitter.clamp(0.0, 4.0),
            seed,
        }
    }

    /// Sets the spacing of one host.
    pub fn set_interval(&mut self, host: &str, interval: Duration) {
        self.intervals.insert(host.to_string(), interval);
    }

    /// The spacing of one host.
    pub fn interval(&self, host: &str) -> Duration {
        *self.intervals.get(host).unwrap_or(&self.default_interval)
    }

    /// No request to `host` starts before `until`.
    pub fn pause_until(&mut self, host: &str, until: Instant) {
        let p = self.paused.entry(host.to_string()).or_insert(until);
        *p = (*p).max(until);
    }

    /// When the pause of `host` ends, if it is paused.
    pub fn paused_until(&self, host: &str) -> Option<Instant> {
        self.paused.get(host).copied().filter(|t| *t > Instant::now())
    }

    /// The host asked for less: its spacing doubles, up to eight times the configured spacing
    /// (a minute at most). A spacing configured as zero stays zero: the user asked for none.
    pub fn widen(&mut self, host: &str) -> Duration {
        let base = self.default_interval;
        let now = self.interval(host);
        let cap = (base * MAX_WIDENING).min(MAX_WIDENED).max(now);
        let wider = (now * 2).max(base).min(cap);
        self.set_interval(host, wider);
        wider
    }

    /// How long to wait before the next request to `host` may start.
    pub fn wait_for(&mut self, host: &str, now: Instant) -> Duration {
        let pause = self.paused.get(host).map_or(Duration::ZERO, |t| t.saturating_duration_since(now));
        let Some(&last) = self.last.get(host) else { return pause };
        let base = self.interval(host);
        let spacing = base.mul_f64(1.0 + self.jitter * self.random());
        (last + spacing).saturating_duration_since(now).max(pause)
    }

    /// Takes the next turn of `host`: returns when it starts (now or later) and marks it taken,
    /// so that a caller sleeping until then holds its place.
    fn reserve(&mut self, host: &str) -> Instant {
        let now = Instant::now();
        let start = now + self.wait_for(host, now);
        self.last.insert(host.to_string(), start);
        start
    }

    /// A request to `host` got its answer: the spacing counts from now, so that the host sees
    /// at least the spacing between one request and the next, however long the connection took.
    pub fn finished(&mut self, host: &str) {
        let now = Instant::now();
        let last = self.last.entry(host.to_string()).or_insert(now);
        *last = (*last).max(now);
    }

    /// Waits (asynchronously) until a request to `host` may start, and marks it started.
    pub async fn acquire(&mut self, host: &str) {
        let start = self.reserve(host);
        tokio::time::sleep_until(start.into()).await;
    }

    /// A number in [0, 1) from a xorshift generator: jitter needs spread, not secrecy.
    fn random(&mut self) -> f64 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        (self.seed >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A [`HostLimiter`] shared by the clones of a fetcher.
#[derive(Debug, Clone)]
pub struct Shared(Arc<Mutex<HostLimiter>>);

impl Shared {
    /// A shared limiter.
    pub fn new(limiter: HostLimiter) -> Shared {
        Shared(Arc::new(Mutex::new(limiter)))
    }

    /// Runs `f` on the limiter.
    pub fn with<T>(&self, f: impl FnOnce(&mut HostLimiter) -> T) -> T {
        let mut guard = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    /// Waits for the next turn of `host`.
    pub async fn acquire(&self, host: &str) {
        let start = self.with(|l| l.reserve(host));
        tokio::time::sleep_until(start.into()).await;
    }
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
    fn a_pause_holds_every_request_and_widening_doubles() {
        let mut l = HostLimiter::new(Duration::from_secs(1), 0.0);
        let t0 = Instant::now();
        l.pause_until("a", t0 + Duration::from_millis(1500));
        assert_eq!(l.wait_for("a", t0), Duration::from_millis(1500));
        assert_eq!(l.wait_for("b", t0), Duration::ZERO);
        let r1 = l.reserve("a");
        let r2 = l.reserve("a");
        assert!(r1 >= t0 + Duration::from_millis(1500) && r2 >= r1 + Duration::from_secs(1));
        let widened: Vec<u64> = (0..5).map(|_| l.widen("a").as_secs()).collect();
        assert_eq!(widened, [2, 4, 8, 8, 8]);
        l.set_interval("c", Duration::from_secs(50));
        assert_eq!(l.widen("c"), Duration::from_secs(50), "never narrower, never past a minute");
        let mut none = HostLimiter::new(Duration::ZERO, 0.0);
        assert_eq!(none.widen("a"), Duration::ZERO);
    }
}
