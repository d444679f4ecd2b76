//! The Dataverse state of an invoice from its payment state (which each ERP reads in its own
//! terms; Business Central's as its `UpdateStatusOfPaidInvoices` decides it): a cancelled
//! invoice is Canceled / Canceled; nothing remaining is Paid / Complete; something paid is
//! Paid / Partial; otherwise Active / Billed.

use crate::systems::documents::PaymentState;

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

/// The state a posted invoice gives its CRM invoice, by how far it is paid.
pub fn of_payment(payment: PaymentState) -> InvoiceState {
    match payment {
        PaymentState::Canceled => (CANCELED, CANCELED_STATUS),
        PaymentState::Paid => (PAID, COMPLETE),
        PaymentState::PartlyPaid => (PAID, PARTIAL),
        PaymentState::Unpaid => (ACTIVE, BILLED),
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

    #[test]
    fn states_follow_the_payment() {
        assert_eq!(of_payment(PaymentState::Unpaid), (ACTIVE, BILLED));
        assert_eq!(of_payment(PaymentState::PartlyPaid), (PAID, PARTIAL));
        assert_eq!(of_payment(PaymentState::Paid), (PAID, COMPLETE));
        assert_eq!(
            of_payment(PaymentState::Canceled),
            (CANCELED, CANCELED_STATUS)
        );
        assert_eq!(describe((PAID, PARTIAL)), "Paid/Partial");
    }
}
