//! HTTP timeouts and retry limits.

use std::time::Duration;

use serde::Deserialize;

/// Timeouts and retry limits for every HTTP call to an external system.
///
/// In configuration files durations are numbers of seconds (or milliseconds for the backoff
/// base): `timeout_secs`, `max_attempts`, `backoff_base_ms`, `backoff_max_secs`,
/// `max_retry_after_secs`, `max_throttled_secs`. Unknown keys are refused.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "HttpConfigFile")]
pub struct HttpConfig {
    /// Whole-request timeout (default 30 s).
    pub timeout: Duration,
    /// Attempts per request, including the first (default 8). Answers that throttle with a
    /// delay to honour (429 or 503 with a non-zero `Retry-After`) are back-pressure, not
    /// failed attempts: they do not count.
    pub max_attempts: u32,
    /// First backoff delay; doubles per attempt (default 200 ms).
    pub backoff_base: Duration,
    /// Longest backoff delay (default 30 s).
    pub backoff_max: Duration,
    /// Longest `Retry-After` honoured; longer values are capped (default 300 s).
    pub max_retry_after: Duration,
    /// How long one request may wait in all on a throttling system before it gives up
    /// (default 1 h): a system that keeps answering 429 for longer is out of service.
    pub max_throttled: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            timeout: Duration::from_secs(30),
            max_attempts: 8,
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
            max_throttled: Duration::from_secs(3600),
        }
    }
}

/// The configuration-file form of [`HttpConfig`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct HttpConfigFile {
    timeout_secs: f64,
    max_attempts: u32,
    backoff_base_ms: f64,
    backoff_max_secs: f64,
    max_retry_after_secs: f64,
    max_throttled_secs: f64,
}

impl Default for HttpConfigFile {
    fn default() -> Self {
        let d = HttpConfig::default();
        HttpConfigFile {
            timeout_secs: d.timeout.as_secs_f64(),
            max_attempts: d.max_attempts,
            backoff_base_ms: d.backoff_base.as_secs_f64() * 1000.0,
            backoff_max_secs: d.backoff_max.as_secs_f64(),
            max_retry_after_secs: d.max_retry_after.as_secs_f64(),
            max_throttled_secs: d.max_throttled.as_secs_f64(),
        }
    }
}

fn secs(v: f64) -> Duration {
    Duration::try_from_secs_f64(v.max(0.0)).unwrap_or(Duration::MAX)
}

impl From<HttpConfigFile> for HttpConfig {
    fn from(f: HttpConfigFile) -> Self {
        HttpConfig {
            timeout: secs(f.timeout_secs),
            max_attempts: f.max_attempts.max(1),
            backoff_base: secs(f.backoff_base_ms / 1000.0),
            backoff_max: secs(f.backoff_max_secs),
            max_retry_after: secs(f.max_retry_after_secs),
            max_throttled: secs(f.max_throttled_secs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_humane_durations_and_refuses_unknown_keys() {
        let c: HttpConfig = serde_json::from_str(r#"{"timeout_secs": 5, "backoff_base_ms": 50}"#)
            .expect("valid config");
        assert_eq!(c.timeout, Duration::from_secs(5));
        assert_eq!(c.backoff_base, Duration::from_millis(50));
        assert_eq!(c.max_attempts, 8);
        assert!(serde_json::from_str::<HttpConfig>(r#"{"timeout": 5}"#).is_err());
        let d: HttpConfig = serde_json::from_str("{}").expect("defaults");
        assert_eq!(d, HttpConfig::default());
    }
}
