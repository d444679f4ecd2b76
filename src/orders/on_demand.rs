//! Creating one order on demand (`couplet orders create-in-erp`, the flow for
//! `[orders] auto_create = false`): the Dataverse order is found by id or order number, marked
//! as requested in the checkpoints changelog (so every instance, a parked order's re-drive
//! and `couplet errors retry` count it as requested), and put on the changes topic as a forced
//! change like `couplet sync-now`.

use serde_json::{Value, json};

use super::on_demand_marker;
use crate::error::{Actor, Classify, Retry};
use crate::event::Fields;
use crate::event::types::now_millis;
use crate::pipeline::error::PipelineError;
use crate::pipeline::state::StateLog;
use crate::systems::{DataverseClient, SystemError};

/// Why an order cannot be requested.
#[derive(Debug, thiserror::Error)]
pub enum OnDemandError {
    /// No Dataverse order has that id or order number.
    #[error(
        "no Dataverse sales order has the id or order number '{0}'; pass a salesorderid or an ordernumber (e.g. ORD-01000)"
    )]
    NotFound(String),
    /// More than one order has that order number.
    #[error(
        "{count} Dataverse sales orders have the order number '{order}'; pass the salesorderid of the one to create"
    )]
    Ambiguous {
        /// What was asked for.
        order: String,
        /// How many orders matched.
        count: usize,
    },
    /// The order is not submitted (statecode 1): only submitted orders are created.
    #[error(
        "Dataverse sales order {order} is not submitted (statecode {state}); submit it in Dataverse first (only submitted orders go to Business Central)"
    )]
    NotSubmitted {
        /// The order (id and number).
        order: String,
        /// Its statecode.
        state: String,
    },
    /// Reading Dataverse failed.
    #[error("reading the Dataverse sales order '{order}': {source}")]
    System {
        /// What was asked for.
        order: String,
        /// The client's error.
        source: SystemError,
    },
    /// Recording the request failed.
    #[error("recording the request to create {order}: {source}")]
    State {
        /// The order id.
        order: String,
        /// The state log's error.
        source: PipelineError,
    },
}

impl Classify for OnDemandError {
    fn actor(&self) -> Actor {
        match self {
            OnDemandError::System { source, .. } => source.actor(),
            OnDemandError::State { .. } => Actor::Internal,
            _ => Actor::User,
        }
    }
    fn retry(&self) -> Retry {
        match self {
            OnDemandError::System { source, .. } => source.retry(),
            _ => Retry::Never,
        }
    }
    fn class(&self) -> &'static str {
        match self {
            OnDemandError::NotFound(_) => "not_found",
            OnDemandError::Ambiguous { .. } => "ambiguous",
            OnDemandError::NotSubmitted { .. } => "not_submitted",
            OnDemandError::System { .. } => "system",
            OnDemandError::State { .. } => "state",
        }
    }
}

/// True when `s` has the shape of a GUID (a salesorderid).
fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

/// Finds the submitted Dataverse order `order` (a salesorderid or an ordernumber) and returns
/// its row.
pub async fn find_submitted(dv: &DataverseClient, order: &str) -> Result<Fields, OnDemandError> {
    let sys = |source| OnDemandError::System {
        order: order.to_string(),
        source,
    };
    let row = if is_guid(order) {
        dv.get("salesorders", order, &[]).await.map_err(sys)?
    } else {
        let filter = format!("ordernumber eq '{}'", order.replace('\'', "''"));
        let mut rows = dv.query("salesorders", &filter, &[]).await.map_err(sys)?;
        match rows.len() {
            0 | 1 => rows.pop(),
            count => {
                return Err(OnDemandError::Ambiguous {
                    order: order.to_string(),
                    count,
                });
            }
        }
    };
    let Some(row) = row else {
        return Err(OnDemandError::NotFound(order.to_string()));
    };
    let state = row.get("statecode").and_then(Value::as_i64);
    if state != Some(1) {
        let id = row
            .get("salesorderid")
            .and_then(Value::as_str)
            .unwrap_or("");
        let number = row.get("ordernumber").and_then(Value::as_str).unwrap_or("");
        return Err(OnDemandError::NotSubmitted {
            order: format!("{number} ({id})"),
            state: state
                .map(|s| s.to_string())
                .unwrap_or_else(|| "empty".into()),
        });
    }
    Ok(row)
}

/// Marks `order_id` as requested: with automatic creation off, its change events (this one,
/// a re-drive after parking, a retry) are created in Business Central.
pub async fn mark_requested(state: &StateLog, order_id: &str) -> Result<(), OnDemandError> {
    state
        .save_checkpoint(
            &on_demand_marker(order_id),
            &json!({ "requested_at": now_millis() }),
        )
        .await
        .map_err(|source| OnDemandError::State {
            order: order_id.to_string(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_numbers_are_told_apart_and_errors_say_what_to_do() {
        assert!(is_guid("1f0e6c1a-7a38-4c2c-9d0a-2b1a3c4d5e6f"));
        assert!(!is_guid("ORD-01000"));
        let e = OnDemandError::NotSubmitted {
            order: "ORD-1 (x)".into(),
            state: "0".into(),
        };
        assert!(e.to_string().contains("submit it in Dataverse first"));
        assert_eq!(e.actor(), Actor::User);
        assert_eq!(on_demand_marker("abc"), "orders/create-in-erp/abc");
    }
}
