//! How a system's requests are authenticated: the part of a connector the shared HTTP client
//! ([`ApiClient`](super::ApiClient)) calls on every attempt and after a 401.
//!
//! A connector supplies its own (`ApiClient::with_authenticator`): Entra ID bearer tokens per
//! resource for Dataverse, Business Central and F&O (`systems::auth::BearerAuth`); a
//! Service Layer session for SAP Business One would be another, in its folder (log in with
//! `POST /b1s/v1/Login`, put the `B1SESSION` and `ROUTEID` cookies on each request, forget the
//! session on a 401 so the next attempt logs in again), with nothing here changed.

use std::fmt;

use async_trait::async_trait;
use reqwest::header::{HeaderName, HeaderValue};

use crate::event::key::System;
use crate::systems::error::SystemError;
use crate::systems::secret::Secret;

/// What an authenticator put on a request (a bearer token, a session id), handed back to it
/// with a 401 so it drops exactly those credentials. `Debug` prints `***`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credential(Secret);

impl Credential {
    /// Wraps the credentials sent.
    pub fn new(value: impl Into<String>) -> Self {
        Credential(Secret::new(value.into()))
    }

    /// The clear-text value, for the authenticator that issued it.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credential({:?})", self.0)
    }
}

/// Authenticates one system's requests. Implementations keep their secrets out of `Debug`.
#[async_trait]
pub trait Authenticator: Send + Sync + fmt::Debug {
    /// Puts credentials on `request` (a header, a cookie), fetching or renewing them first
    /// if needed. Called once per attempt, after any pause of the host, so they are fresh when
    /// the request leaves. Returns what it put there.
    async fn authorise(&self, request: &mut reqwest::Request) -> Result<Credential, SystemError>;

    /// The system answered 401 to a request carrying `used`: forget those credentials (not
    /// newer ones another request already obtained), so the next [`Authenticator::authorise`]
    /// gets new ones. Returns whether new credentials may help; the client then retries the
    /// request once, and fails it at once otherwise.
    fn on_unauthorised(&self, used: &Credential) -> bool;
}

/// Sets header `name` of `request` to `value`, marked sensitive (never logged by the HTTP
/// stack); a value that cannot be a header is [`SystemError::Malformed`].
pub fn set_secret_header(
    system: System,
    request: &mut reqwest::Request,
    name: HeaderName,
    value: &str,
) -> Result<(), SystemError> {
    let mut value = HeaderValue::from_str(value).map_err(|_| SystemError::Malformed {
        system,
        operation: "auth",
        reason: format!("the credentials are not a valid {name} header value"),
    })?;
    value.set_sensitive(true);
    request.headers_mut().insert(name, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_their_headers_stay_secret() {
        let c = Credential::new("tok-1");
        assert_eq!(format!("{c:?}"), "Credential(***)");
        assert_eq!(c.expose(), "tok-1");
        let mut req = reqwest::Request::new(
            reqwest::Method::GET,
            url::Url::parse("http://127.0.0.1/").expect("url"),
        );
        set_secret_header(
            crate::systems::BC,
            &mut req,
            reqwest::header::COOKIE,
            "B1SESSION=s3cr3t",
        )
        .expect("header");
        let v = req.headers().get(reqwest::header::COOKIE).expect("set");
        assert!(v.is_sensitive());
        assert!(!format!("{v:?}").contains("s3cr3t"));
        let bad = set_secret_header(
            crate::systems::BC,
            &mut req,
            reqwest::header::AUTHORIZATION,
            "a\nb",
        );
        assert!(matches!(bad, Err(SystemError::Malformed { .. })));
    }
}
