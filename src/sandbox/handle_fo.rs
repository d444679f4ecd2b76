//! Finance & Operations through [`Sandbox`], for tests and demos: its rows as a GET returns
//! them, and changes made as a person would in the client (any legal entity, as a user with
//! access to all), which raise business events like API writes do.

use axum::http::Method;
use chrono::Utc;
use serde_json::Value;

use super::error::SandboxError;
use super::fo::exec::{Ctx, Request, exec};
use super::fo::{FoError, MAX_PAGE, schema, shape};
use super::handle::Sandbox;
use crate::event::Fields;

fn rejected(entity_set: &str, e: FoError) -> SandboxError {
    SandboxError::FoRejected {
        entity_set: entity_set.into(),
        status: e.status.as_u16(),
        message: e.inner,
    }
}

impl Sandbox {
    /// Every live row of an F&O entity set, all companies, as a cross-company GET returns
    /// them (without `@odata.etag`); empty for an unknown set.
    pub fn fo_rows(&self, entity_set: &str) -> Vec<Fields> {
        let Some(def) = schema::entity(entity_set) else {
            return Vec::new();
        };
        let data = self.shared.fo.data.lock();
        data.store
            .table(def.set)
            .map(|t| {
                t.live()
                    .into_iter()
                    .map(|(_, r)| {
                        let mut f = shape(def, r, None);
                        f.remove("@odata.etag");
                        f
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sends the F&O error log's business events again to the endpoint registered now, as
    /// the **Resend** action does; returns how many.
    pub fn fo_resend_failed_events(&self) -> usize {
        self.shared.fo.events.resend()
    }

    /// Runs one request on F&O as a person in the client would, cross-company.
    fn fo_request(
        &self,
        method: Method,
        path: &str,
        body: &Fields,
    ) -> Result<Option<Value>, SandboxError> {
        let base = self.shared.fo_data_url();
        let now = Utc::now();
        let ctx = Ctx {
            base: &base,
            page_size: MAX_PAGE,
            now,
        };
        let body = Value::Object(body.clone()).to_string();
        let req = Request {
            method,
            path,
            params: vec![("cross-company".into(), "true".into())],
            if_match: None,
            body: body.as_bytes(),
        };
        let set = path.split('(').next().unwrap_or(path);
        let reply =
            exec(&ctx, &mut self.shared.fo.data.lock(), &req).map_err(|e| rejected(set, e))?;
        let user = self.shared.dv_human_user.clone();
        self.shared
            .fo
            .events
            .publish(reply.notes.clone(), &user, now);
        Ok(reply.body)
    }

    /// Creates an F&O row; `body` is an OData POST body with its `dataAreaId`. Returns the
    /// row as the POST answers it.
    pub fn fo_insert_row(&self, entity_set: &str, body: Fields) -> Result<Fields, SandboxError> {
        let v = self.fo_request(Method::POST, entity_set, &body)?;
        Ok(v.and_then(|v| v.as_object().cloned()).unwrap_or_default())
    }

    /// Updates the F&O row with key `key` (`dataAreaId='usmf',CustomerAccount='C00001'`).
    pub fn fo_update_row(
        &self,
        entity_set: &str,
        key: &str,
        patch: Fields,
    ) -> Result<(), SandboxError> {
        self.fo_request(Method::PATCH, &format!("{entity_set}({key})"), &patch)
            .map(|_| ())
    }

    /// Deletes the F&O row with key `key`.
    pub fn fo_delete_row(&self, entity_set: &str, key: &str) -> Result<(), SandboxError> {
        self.fo_request(
            Method::DELETE,
            &format!("{entity_set}({key})"),
            &Fields::new(),
        )
        .map(|_| ())
    }
}
