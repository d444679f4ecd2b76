//! What one request (alone or inside a `$batch`) answers, before it becomes an HTTP response.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::events::Note;
use crate::sandbox::http::{empty, json, set_header};

/// A successful answer, and the business events its write raises.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Option<Value>,
    /// A plain-text body (`$count`), when there is no JSON one.
    pub text: Option<String>,
    pub etag: Option<String>,
    pub location: Option<String>,
    pub notes: Vec<Note>,
}

impl Reply {
    pub fn json(status: StatusCode, body: Value) -> Self {
        Reply {
            status,
            body: Some(body),
            text: None,
            etag: None,
            location: None,
            notes: Vec::new(),
        }
    }

    pub fn empty(status: StatusCode) -> Self {
        Reply {
            status,
            body: None,
            text: None,
            etag: None,
            location: None,
            notes: Vec::new(),
        }
    }

    /// A plain-text answer.
    pub fn text(status: StatusCode, text: String) -> Self {
        Reply {
            text: Some(text),
            ..Reply::empty(status)
        }
    }

    /// The HTTP response.
    pub fn response(&self) -> Response {
        let mut r = match (&self.body, &self.text) {
            (Some(b), _) => json(self.status, b),
            (None, Some(t)) => {
                let mut r = empty(self.status);
                *r.body_mut() = axum::body::Body::from(t.clone());
                set_header(&mut r, "content-type", "text/plain; charset=utf-8");
                r
            }
            (None, None) => empty(self.status),
        };
        if let Some(t) = &self.etag {
            set_header(&mut r, "etag", t);
        }
        if let Some(l) = &self.location {
            set_header(&mut r, "location", l);
        }
        r
    }
}
