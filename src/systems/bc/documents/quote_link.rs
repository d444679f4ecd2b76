//! Linking a Business Central order to the quote it was made from (§6.1: "If quoteid points to
//! a quote coupled by Your Reference = quotenumber: Quote No. is set and that BC quote is
//! archived"). Two paths reach it: an order created from a won quote (the order's creation sets
//! Quote No. and archives the quote, `src/systems/bc/documents/orders.rs`), and a won quote processed after its
//! order was created (`src/systems/bc/documents/quotes.rs` sets Quote No. on the existing order).

use serde_json::{Value, json};

use super::sets::SALES_QUOTES as SET;
use crate::event::Fields;
use crate::systems::{BcClient, SystemError};

pub use crate::quotes::QUOTE_REFERENCE;

fn text<'a>(f: &'a Fields, k: &str) -> &'a str {
    f.get(k).and_then(Value::as_str).unwrap_or("").trim()
}

/// A Business Central quote: its id and number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BcQuote {
    /// The quote's id.
    pub id: String,
    /// Its number (`S-QUO00001`), the order's Quote No.
    pub number: String,
}

/// The Business Central quote whose Your Reference is `reference`. Several are taken as none
/// found (never guessed): the order is then created without Quote No., with a warning.
pub async fn find_quote(bc: &BcClient, reference: &str) -> Result<Option<BcQuote>, SystemError> {
    let filter = format!("yourReference eq '{}'", reference.replace('\'', "''"));
    let rows = bc.query(SET, &filter).await?;
    if rows.len() > 1 {
        tracing::warn!(
            reference,
            count = rows.len(),
            "Several Business Central quotes have this Your Reference; the order is not linked to one."
        );
        return Ok(None);
    }
    Ok(rows.first().map(|q| BcQuote {
        id: text(q, "id").to_string(),
        number: text(q, "number").to_string(),
    }))
}

/// Archives `quote` (the quote's current version becomes an archived version), unless that
/// version is archived already (a retry).
pub async fn archive(bc: &BcClient, quote: &str) -> Result<(), SystemError> {
    super::quote_revise::archive_current(bc, quote, None)
        .await
        .map(|_| ())
}

/// Links the existing Business Central order `order` to `quote`: sets Quote No. and archives
/// the quote, unless the order has it already. Returns true when it linked now.
pub async fn link_existing_order(
    bc: &BcClient,
    order: &str,
    quote: &BcQuote,
) -> Result<bool, SystemError> {
    let Some(row) = bc.get("salesOrders", order).await? else {
        return Ok(false);
    };
    if text(&row, "quoteNumber") == quote.number {
        return Ok(false);
    }
    // Archive first: a crash before the Quote No. is set finds the version archived on the
    // retry (not archived twice), and an order is never linked to an unarchived quote.
    archive(bc, &quote.id).await?;
    let mut patch = Fields::new();
    patch.insert("quoteNumber".into(), json!(quote.number));
    bc.update("salesOrders", order, &patch, "*").await?;
    Ok(true)
}
