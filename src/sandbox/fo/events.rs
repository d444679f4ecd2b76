//! Business Events: the emulator posts one event per customer, released product or sales
//! order change to the registered HTTPS endpoint, with the shared-secret header.
//!
//! What follows Microsoft's pages (`business-events/home-page.md`,
//! `business-events/business-events-dev-doc.md`): the flat payload with the common fields
//! (`BusinessEventId` naming the event type, `BusinessEventLegalEntity`, `ControlNumber`,
//! `EventId`, `EventTime`, `MajorVersion`, `MinorVersion`, …); `ControlNumber` increasing but
//! not sequential, so consumers detect duplicates and order with it; a failed delivery retried
//! 3 times at 1-second intervals, then kept in the error log, from which **Resend** sends it
//! again ([`Publisher::resend`]). Field formats follow the
//! payloads clients observe (`external-apis.md` §3.6): `EventTime` as `/Date(ms)/`,
//! `EventTimeIso8601` with 7 fractional digits, `EventId` an upper-case GUID without braces,
//! `InitiatingUserAADObjectId` with braces.
//!
//! F&O's catalog has no standard event for a customer or product change (those are data
//! events, sent in Dataverse's RemoteExecutionContext shape); the emulator raises custom
//! business events, as an integration's X++ extension would define them (named
//! `<noun><past-tense action>BusinessEvent`, carrying the alternate key and no RecId, enums as
//! symbols, per `business-events/business-events-dev-doc.md`):
//! `CustomerChangedBusinessEvent`, `ReleasedProductChangedBusinessEvent` and
//! `SalesOrderChangedBusinessEvent` (a line's change raises its order's), each with
//! `DataAreaId`, the record's key and `ChangeType` (`Created`, `Updated`, `Deleted`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde_json::{Value, json};

use crate::event::Fields;
use crate::sandbox::config::BusinessEventsConfig;

/// The first control number handed out.
const FIRST_CONTROL_NUMBER: u64 = 5_637_611_083;
/// Deliveries after the first attempt of a failing event.
const RETRIES: u32 = 3;

/// One change to announce.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Note {
    /// The event type (`BusinessEventId`).
    pub event: &'static str,
    /// The legal entity (`dataAreaId`) of the record.
    pub company: String,
    /// Event-specific fields.
    pub fields: Fields,
}

#[derive(Debug)]
struct Counter {
    last: u64,
    count: u64,
}

/// Registrations and the publisher.
#[derive(Debug)]
pub(crate) struct Publisher {
    cfg: Mutex<BusinessEventsConfig>,
    counter: Mutex<Counter>,
    failed: std::sync::Arc<Mutex<Vec<Value>>>,
    client: reqwest::Client,
}

impl Publisher {
    pub fn new(cfg: BusinessEventsConfig) -> Self {
        let mut client = reqwest::Client::builder().timeout(Duration::from_secs(30));
        if let Some(root) = cfg
            .trust_root_pem
            .as_deref()
            .and_then(|pem| reqwest::Certificate::from_pem(pem).ok())
        {
            client = client.add_root_certificate(root);
        }
        Publisher {
            cfg: Mutex::new(cfg),
            counter: Mutex::new(Counter {
                last: FIRST_CONTROL_NUMBER - 1,
                count: 0,
            }),
            failed: Default::default(),
            client: client.build().unwrap_or_default(),
        }
    }

    /// Registers (or replaces) the HTTPS endpoint.
    pub fn register(&self, url: &str) {
        self.cfg.lock().endpoint = Some(url.to_string());
    }

    /// Events that could not be delivered after the retries (F&O's error log).
    pub fn failed(&self) -> Vec<Value> {
        self.failed.lock().clone()
    }

    /// The next control number: higher than the last, with gaps (1 to 3 apart).
    fn next_control(&self) -> (u64, u64) {
        let mut c = self.counter.lock();
        c.count += 1;
        c.last += 1 + (c.count * 7) % 3;
        (c.last, c.count)
    }

    /// Builds the events of `notes` (in order) and delivers them in the background, one after
    /// the other. Nothing happens without a registered endpoint or outside a Tokio runtime.
    pub fn publish(&self, notes: Vec<Note>, user: &str, now: DateTime<Utc>) {
        let cfg = self.cfg.lock().clone();
        let Some(url) = cfg.endpoint.clone() else {
            return;
        };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut deliveries = Vec::new();
        for note in notes {
            let (control, count) = self.next_control();
            let body = payload(&note, control, user, now);
            let twice = cfg
                .duplicate_every
                .is_some_and(|n| n > 0 && count % u64::from(n) == 0);
            deliveries.push(body.clone());
            if twice {
                deliveries.push(body);
            }
        }
        self.send(&rt, url, cfg, deliveries);
    }

    /// Sends the error log's events again to the endpoint registered now (the **Resend**
    /// action); those that fail again go back to the log. Returns how many were resent.
    pub fn resend(&self) -> usize {
        let cfg = self.cfg.lock().clone();
        let (Some(url), Ok(rt)) = (cfg.endpoint.clone(), tokio::runtime::Handle::try_current())
        else {
            return 0;
        };
        let bodies = std::mem::take(&mut *self.failed.lock());
        let n = bodies.len();
        self.send(&rt, url, cfg, bodies);
        n
    }

    /// Delivers `bodies` in order in the background; failures go to the error log.
    fn send(
        &self,
        rt: &tokio::runtime::Handle,
        url: String,
        cfg: BusinessEventsConfig,
        bodies: Vec<Value>,
    ) {
        let client = self.client.clone();
        let failed = self.failed.clone();
        rt.spawn(async move {
            for body in bodies {
                if !deliver(&client, &url, &cfg, &body).await {
                    tracing::warn!(%url, "fo: business event not delivered, kept in the error log");
                    failed.lock().push(body);
                }
            }
        });
    }
}

/// Posts one event, retrying a failure; true when the endpoint took it (2xx).
async fn deliver(
    client: &reqwest::Client,
    url: &str,
    cfg: &BusinessEventsConfig,
    body: &Value,
) -> bool {
    for attempt in 0..=RETRIES {
        if attempt > 0 {
            tokio::time::sleep(cfg.retry_interval).await;
        }
        let sent = client
            .post(url)
            .header(cfg.secret_header.as_str(), cfg.secret.as_str())
            .json(body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => return true,
            Ok(r) => tracing::debug!(status = %r.status(), attempt, "fo: business event refused"),
            Err(e) => tracing::debug!(error = %e, attempt, "fo: business event not sent"),
        }
    }
    false
}

/// ISO 8601 with 7 fractional digits (.NET's round-trip format), e.g.
/// `2022-12-30T13:51:15.2942742Z`.
fn iso8601_7(t: DateTime<Utc>) -> String {
    use chrono::Timelike;
    format!(
        "{}.{:07}Z",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.nanosecond() % 1_000_000_000 / 100
    )
}

/// The event's JSON: the common envelope, then the event-specific fields.
pub(crate) fn payload(note: &Note, control: u64, user: &str, now: DateTime<Utc>) -> Value {
    let mut body = json!({
        "BusinessEventId": note.event,
        "BusinessEventLegalEntity": note.company.to_uppercase(),
        "ContextRecordSubject": "",
        "ControlNumber": control,
        "EventId": uuid::Uuid::new_v4().to_string().to_uppercase(),
        "EventTime": format!("/Date({})/", now.timestamp_millis()),
        "EventTimeIso8601": iso8601_7(now),
        "InitiatingUserAADObjectId": format!("{{{}}}", user.to_uppercase()),
        "MajorVersion": 0,
        "MinorVersion": 0,
        "ParentContextRecordSubjects": [],
    });
    if let Value::Object(m) = &mut body {
        for (k, v) in &note.fields {
            m.insert(k.clone(), v.clone());
        }
    }
    body
}

/// The business event a write to `def` raises, if any: customers, released products and
/// sales orders (a line's change is its order's update).
pub(crate) fn note_for(
    def: &super::schema::EntityDef,
    fields: &Fields,
    change: &'static str,
) -> Option<Note> {
    use super::schema::{CUSTOMERS, RELEASED_PRODUCTS, SALES_ORDER_HEADERS, SALES_ORDER_LINES};
    let (event, key, change) = match def.set {
        s if s == CUSTOMERS.set => ("CustomerChangedBusinessEvent", "CustomerAccount", change),
        s if s == RELEASED_PRODUCTS.set => {
            ("ReleasedProductChangedBusinessEvent", "ItemNumber", change)
        }
        s if s == SALES_ORDER_HEADERS.set => {
            ("SalesOrderChangedBusinessEvent", "SalesOrderNumber", change)
        }
        s if s == SALES_ORDER_LINES.set => (
            "SalesOrderChangedBusinessEvent",
            "SalesOrderNumber",
            "Updated",
        ),
        _ => return None,
    };
    let company = fields
        .get("dataAreaId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut out = Fields::new();
    out.insert("DataAreaId".into(), json!(company));
    out.insert(key.into(), fields.get(key).cloned().unwrap_or(Value::Null));
    out.insert("ChangeType".into(), json!(change));
    Some(Note {
        event,
        company,
        fields: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note() -> Note {
        let mut fields = Fields::new();
        fields.insert("DataAreaId".into(), json!("usmf"));
        fields.insert("CustomerAccount".into(), json!("C00001"));
        Note {
            event: "CustomerChangedBusinessEvent",
            company: "usmf".into(),
            fields,
        }
    }

    #[test]
    fn payload_fields_have_the_documented_formats() {
        let now = DateTime::parse_from_rfc3339("2022-12-30T13:51:15.294274Z")
            .unwrap()
            .with_timezone(&Utc);
        let p = payload(&note(), 7, "410a2690-5ec2-42ee-9f2a-e75b4e324930", now);
        assert_eq!(p["BusinessEventId"], "CustomerChangedBusinessEvent");
        assert_eq!(p["BusinessEventLegalEntity"], "USMF");
        assert_eq!(p["ControlNumber"], 7);
        assert_eq!(p["EventTime"], "/Date(1672408275294)/");
        assert_eq!(p["EventTimeIso8601"], "2022-12-30T13:51:15.2942740Z");
        assert_eq!(
            p["InitiatingUserAADObjectId"],
            "{410A2690-5EC2-42EE-9F2A-E75B4E324930}"
        );
        let id = p["EventId"].as_str().unwrap();
        assert_eq!(id, id.to_uppercase());
        assert_eq!(id.len(), 36);
        assert_eq!(
            (p["MajorVersion"].clone(), p["MinorVersion"].clone()),
            (json!(0), json!(0))
        );
        assert_eq!(p["CustomerAccount"], "C00001");
    }

    #[test]
    fn control_numbers_increase_with_gaps() {
        let p = Publisher::new(BusinessEventsConfig::default());
        let numbers: Vec<u64> = (0..6).map(|_| p.next_control().0).collect();
        assert!(numbers.windows(2).all(|w| w[1] > w[0]));
        assert!(numbers.windows(2).any(|w| w[1] - w[0] > 1), "{numbers:?}");
        assert!(numbers.windows(2).any(|w| w[1] - w[0] == 1), "{numbers:?}");
    }
}
