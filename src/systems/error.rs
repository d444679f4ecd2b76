//! Errors from the external systems' APIs, classified for the pipeline.
//!
//! Messages never contain tokens or secrets, and URLs in them lose their query strings.

use std::time::Duration;

use crate::error::{Actor, Classify, Retry};
use crate::event::key::System;

pub use super::error_body::{ErrorBody, extract_field, parse_error_body};

/// A failed call to Dataverse, Business Central or Entra ID.
#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    /// 429 or 503 with `Retry-After`, still throttled after the configured attempts.
    #[error("{system} {operation}: throttled (HTTP {status}), retry after {}s: {message}", retry_after.as_secs())]
    Throttled {
        /// The system.
        system: System,
        /// The operation, e.g. `create`.
        operation: &'static str,
        /// The HTTP status, 429 or 503.
        status: u16,
        /// How long the server asked to wait.
        retry_after: Duration,
        /// The server's message.
        message: String,
    },
    /// 5xx, network error or timeout, still failing after the configured attempts.
    #[error("{system} {operation}: unavailable{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Unavailable {
        /// The system.
        system: System,
        /// The operation.
        operation: &'static str,
        /// The HTTP status, or `None` for network errors and timeouts.
        status: Option<u16>,
        /// What happened.
        message: String,
    },
    /// 401/403 or a failed token request; the message names the setting to fix.
    #[error("{system}: authentication failed: {message}")]
    Auth {
        /// The system.
        system: System,
        /// What failed and which setting to check.
        message: String,
    },
    /// 404: the record or resource does not exist.
    #[error("{system} {operation}: not found: {message}")]
    NotFound {
        /// The system.
        system: System,
        /// The operation.
        operation: &'static str,
        /// The server's message.
        message: String,
    },
    /// Stale ETag or duplicate key (Dataverse 412, Business Central 409).
    #[error("{system} {operation}: conflict (HTTP {status}): {message}")]
    Conflict {
        /// The system.
        system: System,
        /// The operation.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// Any other 4xx: the request or its data was refused (usually validation).
    #[error("{system} {operation}: rejected (HTTP {status}{}){}: {message}",
        if code.is_empty() { String::new() } else { format!(", {code}") },
        field.as_ref().map(|f| format!(", field '{f}'")).unwrap_or_default())]
    Rejected {
        /// The system.
        system: System,
        /// The operation.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// The system's error code (may be empty).
        code: String,
        /// The server's message.
        message: String,
        /// The offending field, when the message names one.
        field: Option<String>,
    },
    /// Dataverse change-tracking token expired (`0x80044352`): drop it and do a full sync.
    #[error("{system}: delta token expired, a full re-read is needed: {message}")]
    DeltaExpired {
        /// The system.
        system: System,
        /// The server's message.
        message: String,
    },
    /// A response body that is not the expected JSON.
    #[error("{system} {operation}: unexpected response: {reason}")]
    Malformed {
        /// The system.
        system: System,
        /// The operation.
        operation: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// A request Couplet could not even build (a bad URL in configuration or a bug).
    #[error("{system} {operation}: cannot build the request: {reason}")]
    Request {
        /// The system.
        system: System,
        /// The operation.
        operation: &'static str,
        /// Why.
        reason: String,
    },
}

impl SystemError {
    /// The HTTP status behind the error, when there was one.
    /// The field the system named as the culprit, when it did.
    pub fn field(&self) -> Option<&str> {
        match self {
            SystemError::Rejected { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status behind the error, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            SystemError::Throttled { status, .. }
            | SystemError::Conflict { status, .. }
            | SystemError::Rejected { status, .. } => Some(*status),
            SystemError::Unavailable { status, .. } => *status,
            SystemError::NotFound { .. } => Some(404),
            SystemError::Auth { .. }
            | SystemError::DeltaExpired { .. }
            | SystemError::Malformed { .. }
            | SystemError::Request { .. } => None,
        }
    }

    /// The system the error came from.
    pub fn system(&self) -> System {
        match self {
            SystemError::Throttled { system, .. }
            | SystemError::Unavailable { system, .. }
            | SystemError::Auth { system, .. }
            | SystemError::NotFound { system, .. }
            | SystemError::Conflict { system, .. }
            | SystemError::Rejected { system, .. }
            | SystemError::DeltaExpired { system, .. }
            | SystemError::Malformed { system, .. }
            | SystemError::Request { system, .. } => *system,
        }
    }

    /// True for [`SystemError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, SystemError::NotFound { .. })
    }
}

impl Classify for SystemError {
    fn actor(&self) -> Actor {
        match self {
            SystemError::Auth { .. } | SystemError::Rejected { .. } => Actor::User,
            SystemError::Request { .. } => Actor::Internal,
            _ => Actor::External,
        }
    }

    fn retry(&self) -> Retry {
        match self {
            SystemError::Throttled { retry_after, .. } => Retry::After(*retry_after),
            SystemError::Unavailable { .. } | SystemError::Malformed { .. } => Retry::Backoff,
            _ => Retry::Never,
        }
    }

    fn class(&self) -> &'static str {
        match self {
            SystemError::Throttled { .. } => "throttled",
            SystemError::Unavailable { .. } => "unavailable",
            SystemError::Auth { .. } => "auth",
            SystemError::NotFound { .. } => "not_found",
            SystemError::Conflict { .. } => "conflict",
            SystemError::Rejected { .. } => "validation",
            SystemError::DeltaExpired { .. } => "delta_expired",
            SystemError::Malformed { .. } => "malformed",
            SystemError::Request { .. } => "request",
        }
    }
}

impl SystemError {
    /// Maps a failed HTTP answer to an error: `retry_after` is the parsed `Retry-After`, if any,
    /// and `body` the response text, parsed for the system's `{"error":{code,message}}` shape.
    pub fn from_response(
        system: System,
        operation: &'static str,
        status: u16,
        retry_after: Option<Duration>,
        body: &str,
    ) -> SystemError {
        let ErrorBody { code, message } = parse_error_body(body);
        let message = if message.is_empty() {
            format!("HTTP {status}")
        } else {
            message
        };
        if code == "0x80044352"
            || code == "-2147204270"
            || message.contains("Version stamp associated with the client has expired")
        {
            return SystemError::DeltaExpired { system, message };
        }
        let duplicate = matches!(
            code.as_str(),
            "Internal_EntityWithSameKeyExists" | "0x80040237" | "DuplicateRecord"
        );
        match status {
            401 | 403 => SystemError::Auth {
                system,
                message: format!(
                    "HTTP {status}{}: {message}; {}",
                    if code.is_empty() {
                        String::new()
                    } else {
                        format!(" {code}")
                    },
                    auth_hint(system, status)
                ),
            },
            404 => SystemError::NotFound {
                system,
                operation,
                message,
            },
            409 => SystemError::Conflict {
                system,
                operation,
                status,
                message,
            },
            412 if system == crate::systems::DATAVERSE => SystemError::Conflict {
                system,
                operation,
                status,
                message,
            },
            400..=499 if duplicate => SystemError::Conflict {
                system,
                operation,
                status,
                message,
            },
            429 | 503 if retry_after.is_some() || status == 429 => SystemError::Throttled {
                system,
                operation,
                status,
                retry_after: retry_after.unwrap_or(Duration::from_secs(1)),
                message,
            },
            408 | 500..=599 => SystemError::Unavailable {
                system,
                operation,
                status: Some(status),
                message,
            },
            _ => SystemError::Rejected {
                system,
                operation,
                status,
                field: extract_field(&message),
                code,
                message,
            },
        }
    }
}

/// Which setting to check after a 401 or 403 from a system's API (the system's own advice).
fn auth_hint(system: System, status: u16) -> String {
    (system.rules().auth_hint)(status).to_string()
}

/// True for the class of an error worth retrying (`retry()` is not `Never`), for code that
/// only has an outcome's error class: a write that failed so may have been carried out.
pub fn is_transient_class(class: &str) -> bool {
    matches!(class, "throttled" | "unavailable" | "malformed")
}

/// A URL without its query string and fragment (which could carry secrets or tokens).
pub fn redact_url(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    url[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_classes_are_the_retried_errors() {
        let (system, operation) = (crate::systems::BC, "create");
        let message = String::new();
        let all = [
            SystemError::Throttled {
                system,
                operation,
                status: 429,
                retry_after: Duration::from_secs(1),
                message: message.clone(),
            },
            SystemError::Unavailable {
                system,
                operation,
                status: Some(503),
                message: message.clone(),
            },
            SystemError::Auth {
                system,
                message: message.clone(),
            },
            SystemError::NotFound {
                system,
                operation,
                message: message.clone(),
            },
            SystemError::Conflict {
                system,
                operation,
                status: 412,
                message: message.clone(),
            },
            SystemError::Rejected {
                system,
                operation,
                status: 400,
                code: String::new(),
                message: message.clone(),
                field: None,
            },
            SystemError::DeltaExpired {
                system,
                message: message.clone(),
            },
            SystemError::Malformed {
                system,
                operation,
                reason: message.clone(),
            },
            SystemError::Request {
                system,
                operation,
                reason: message,
            },
        ];
        for e in all {
            assert_eq!(
                is_transient_class(e.class()),
                e.retry() != Retry::Never,
                "{}",
                e.class()
            );
        }
    }

    #[test]
    fn redacts_query_strings_and_classifies() {
        assert_eq!(
            redact_url("https://h/api/accounts?$deltatoken=abc&code=secret"),
            "https://h/api/accounts"
        );
        let e = SystemError::Throttled {
            system: crate::systems::DATAVERSE,
            operation: "get",
            status: 429,
            retry_after: Duration::from_secs(3),
            message: "slow down".into(),
        };
        assert_eq!(e.retry(), Retry::After(Duration::from_secs(3)));
        assert_eq!(e.actor(), Actor::External);
        assert_eq!(e.status(), Some(429));
        let d = SystemError::DeltaExpired {
            system: crate::systems::DATAVERSE,
            message: String::new(),
        };
        assert_eq!(d.class(), "delta_expired");
    }

    #[test]
    fn maps_responses() {
        let dv = crate::systems::DATAVERSE;
        let e = SystemError::from_response(
            dv,
            "create",
            400,
            None,
            r#"{"error":{"code":"0x80044331","message":"The length of the 'name' attribute of the 'account' entity exceeded the maximum allowed length of '160'."}}"#,
        );
        match e {
            SystemError::Rejected { field, code, .. } => {
                assert_eq!(field.as_deref(), Some("name"));
                assert_eq!(code, "0x80044331");
            }
            other => panic!("unexpected {other:?}"),
        }
        let e = SystemError::from_response(dv, "update", 412, None, "{}");
        assert_eq!(e.class(), "conflict");
        let e = SystemError::from_response(crate::systems::BC, "update", 412, None, "{}");
        assert_eq!(e.class(), "validation");
        let e = SystemError::from_response(
            dv,
            "delta",
            400,
            None,
            r#"{"error":{"code":"0x80044352","message":"Version stamp associated with the client has expired. Please perform a full sync."}}"#,
        );
        assert_eq!(e.class(), "delta_expired");
        let e = SystemError::from_response(crate::systems::BC, "get", 401, None, "");
        // The credentials are the system's [auth.bc] table's, or the shared [auth]'s.
        assert!(
            e.to_string().contains("[auth.bc], or the shared [auth]"),
            "{e}"
        );
        assert_eq!(e.actor(), Actor::User);
        let e = SystemError::from_response(crate::systems::BC, "get", 503, None, "");
        assert_eq!(e.retry(), Retry::Backoff);
        let e = SystemError::from_response(
            crate::systems::BC,
            "create",
            400,
            None,
            r#"{"error":{"code":"Internal_EntityWithSameKeyExists","message":"exists"}}"#,
        );
        assert_eq!(e.class(), "conflict");
    }
}
