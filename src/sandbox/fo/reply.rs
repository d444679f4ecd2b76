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
    pub etag: Option<String>,
    pub location: Option<String>,
    pub notes: Vec<Note>,
}

impl Reply {
    pub fn json(status: StatusCode, body: Value) -> Self {
        Reply {
            status,
            body: Some(body),
            etag: None,
            location: None,
            notes: Vec::new(),
        }
    }

    pub fn empty(status: StatusCode) -> Self {
        Reply {
            status,
            body: None,
            etag: None,
            location: None,
            notes: Vec::new(),
        }
    }

    /// The HTTP response.
    pub fn response(&self) -> Response {
        let mut r = match &self.body {
            Some(b) => json(self.status, b),
            None => empty(self.status),
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
