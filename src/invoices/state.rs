//! The Dataverse state of an invoice from Business Central's payment status, as BC's
//! `UpdateStatusOfPaidInvoices` decides it: a cancelled invoice is Canceled / Canceled; nothing
//! remaining is Paid / Complete; something paid is Paid / Partial; otherwise Active / Billed.

use serde_json::Value;

use crate::event::Fields;

/// invoice statecode Active.
pub const ACTIVE: i64 = 0;
/// invoice statecode Paid.
pub const PAID: i64 = 2;
/// invoice statecode Canceled.
pub const CANCELED: i64 = 3;
/// statuscode Billed (state Active).
pub const BILLED: i64 = 4;
/// statuscode Complete (state Paid).
pub const COMPLETE: i64 = 100001;
/// statuscode Partial (state Paid).
pub const PARTIAL: i64 = 100002;
/// statuscode Canceled (state Canceled).
pub const CANCELED_STATUS: i64 = 100003;

/// A Dataverse invoice state: (statecode, statuscode).
pub type InvoiceState = (i64, i64);

fn num(f: &Fields, k: &str) -> f64 {
    f.get(k).and_then(Value::as_f64).unwrap_or(0.0)
}

fn cents(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

/// The state a Business Central posted invoice gives its Dataverse invoice.
pub fn of_bc_invoice(invoice: &Fields) -> InvoiceState {
    let status = invoice.get("status").and_then(Value::as_str).unwrap_or("");
    if status == "Canceled" {
        return (CANCELED, CANCELED_STATUS);
    }
    let remaining = cents(num(invoice, "remainingAmount"));
    let amount = cents(num(invoice, "totalAmountIncludingTax"));
    if remaining == 0 {
        (PAID, COMPLETE)
    } else if remaining != amount {
        (PAID, PARTIAL)
    } else {
        (ACTIVE, BILLED)
    }
}

/// In words, for messages: `Paid/Partial`.
pub fn describe(s: InvoiceState) -> &'static str {
    match s {
        (ACTIVE, BILLED) => "Active/Billed",
        (PAID, COMPLETE) => "Paid/Complete",
        (PAID, PARTIAL) => "Paid/Partial",
        (CANCELED, CANCELED_STATUS) => "Canceled/Canceled",
        (ACTIVE, _) => "Active",
        (PAID, _) => "Paid",
        (CANCELED, _) => "Canceled",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inv(status: &str, total: f64, remaining: f64) -> Fields {
        json!({"status": status, "totalAmountIncludingTax": total, "remainingAmount": remaining})
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn states_follow_bc() {
        assert_eq!(of_bc_invoice(&inv("Open", 100.0, 100.0)), (ACTIVE, BILLED));
        assert_eq!(of_bc_invoice(&inv("Open", 100.0, 40.0)), (PAID, PARTIAL));
        assert_eq!(of_bc_invoice(&inv("Paid", 100.0, 0.0)), (PAID, COMPLETE));
        assert_eq!(
            of_bc_invoice(&inv("Canceled", 100.0, 0.0)),
            (CANCELED, CANCELED_STATUS)
        );
        // Rounding noise is not a payment.
        assert_eq!(
            of_bc_invoice(&inv("Open", 100.1, 100.100_000_1)),
            (ACTIVE, BILLED)
        );
        assert_eq!(describe((PAID, PARTIAL)), "Paid/Partial");
    }
}
