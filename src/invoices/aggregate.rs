//! A posted invoice as one aggregate: the header and its lines in `sequence` order (the ERP
//! reads them, in its folder).

use super::LINES;
use crate::event::Fields;

/// True when `invoice` was read as an aggregate already.
pub fn is_complete(invoice: &Fields) -> bool {
    invoice.contains_key(LINES)
}
