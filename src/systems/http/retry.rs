//! What to do with a response: succeed, wait and retry, refresh the token, or fail.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::config::HttpConfig;

/// The decision for one HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAction {
    /// 2xx or 304: hand the response to the caller.
    Success,
    /// The server said when (429/503 with `Retry-After`): pause the host this long, then retry.
    RetryAfter(Duration),
    /// A transient fault: retry after a jittered exponential backoff.
    Backoff,
    /// 401: have the authenticator renew the credentials once, then retry once.
    RefreshToken,
    /// A permanent failure: map the response to a `SystemError`.
    Fail,
}

/// Dataverse service-protection codes, retried even when they arrive with an unusual status.
const THROTTLE_CODES: [&str; 3] = ["0x80072322", "0x80072321", "0x80072326"];

/// Classifies an HTTP answer by status, headers and (for throttling codes) body.
pub fn classify(status: u16, headers: &HeaderMap, body: &str) -> RetryAction {
    match status {
        200..=299 | 304 => RetryAction::Success,
        429 | 503 => match retry_after(headers) {
            Some(d) => RetryAction::RetryAfter(d),
            None => RetryAction::Backoff,
        },
        // Business Central adds retry-after on 502 too; honour it when present.
        502 | 504 | 408 => match retry_after(headers) {
            Some(d) => RetryAction::RetryAfter(d),
            None => RetryAction::Backoff,
        },
        401 => RetryAction::RefreshToken,
        _ if THROTTLE_CODES.iter().any(|c| body.contains(c)) => RetryAction::Backoff,
        _ => RetryAction::Fail,
    }
}

/// The `Retry-After` header of a response, if present and valid.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, Utc::now())
}

/// Parses `Retry-After`: delay seconds (`"7"`, also `"1.5"`) or an HTTP-date. A date in the
/// past means "now" (zero).
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let date = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
    Some((date - now).to_std().unwrap_or(Duration::ZERO))
}

/// The jittered exponential backoff before retry number `retry` (1-based): a random delay
/// between half and all of `base * 2^(retry-1)`, capped at `backoff_max`.
pub fn backoff_delay(cfg: &HttpConfig, retry: u32) -> Duration {
    let exp = retry.saturating_sub(1).min(30);
    let ceiling = cfg
        .backoff_base
        .saturating_mul(1u32 << exp)
        .min(cfg.backoff_max);
    let secs = ceiling.as_secs_f64();
    if secs <= 0.0 {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(rand::random_range(secs / 2.0..=secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn with_retry_after(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(v).expect("header"));
        h
    }

    #[test]
    fn classifies_statuses() {
        let none = HeaderMap::new();
        assert_eq!(classify(200, &none, ""), RetryAction::Success);
        assert_eq!(classify(204, &none, ""), RetryAction::Success);
        assert_eq!(classify(304, &none, ""), RetryAction::Success);
        assert_eq!(
            classify(429, &with_retry_after("2"), ""),
            RetryAction::RetryAfter(Duration::from_secs(2))
        );
        assert_eq!(classify(429, &none, ""), RetryAction::Backoff);
        assert_eq!(
            classify(503, &with_retry_after("5"), ""),
            RetryAction::RetryAfter(Duration::from_secs(5))
        );
        assert_eq!(classify(503, &none, ""), RetryAction::Backoff);
        assert_eq!(classify(502, &none, ""), RetryAction::Backoff);
        assert_eq!(classify(504, &none, ""), RetryAction::Backoff);
        assert_eq!(classify(400, &none, "{}"), RetryAction::Fail);
        assert_eq!(classify(404, &none, ""), RetryAction::Fail);
        assert_eq!(classify(412, &none, ""), RetryAction::Fail);
        assert_eq!(classify(401, &none, ""), RetryAction::RefreshToken);
        assert_eq!(classify(500, &none, ""), RetryAction::Fail);
    }

    #[test]
    fn honours_http_date_retry_after() {
        let later = (Utc::now() + chrono::Duration::seconds(30))
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        match classify(429, &with_retry_after(&later), "") {
            RetryAction::RetryAfter(d) => assert!(d > Duration::from_secs(25)),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn parses_retry_after() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:50Z")
            .expect("date")
            .with_timezone(&Utc);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after(" 1.5 ", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let cfg = HttpConfig::default();
        let first = backoff_delay(&cfg, 1);
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(200));
        assert!(backoff_delay(&cfg, 40) <= cfg.backoff_max);
    }
}
