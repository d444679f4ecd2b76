//! F&O's sales documents, behind [`ErpDocuments`]: Sales orders become F&O sales orders
//! (`SalesOrderHeadersV2` with `SalesOrderLines`) in their customer's legal entity, built from
//! the Dataverse aggregate ([`build`]) and created once ([`orders`]); an order is read back
//! whole or in words ([`read`]). F&O takes orders only: quotes, posted invoices and account
//! statistics stay in F&O (Couplet never writes financial entries into Sales), so the only
//! document flow it declares is the sales order.

pub mod build;
pub mod orders;
pub mod read;

use async_trait::async_trait;

use super::client::FoClient;
use crate::event::{Fields, Outcome, WriteCommand};
use crate::invoices::figures::Statistics;
use crate::mapping::model::FlowKind;
use crate::orders::build::DocumentBuilder;
use crate::systems::connector::ErpDocuments;
use crate::systems::documents::{ErpOrder, PaymentState, PostedInvoice};
use crate::systems::error::SystemError;

#[async_trait]
impl ErpDocuments for FoClient {
    fn flows(&self) -> &'static [FlowKind] {
        &[FlowKind::SalesOrder]
    }

    fn builder(&self) -> &dyn DocumentBuilder {
        &build::FoSalesOrders
    }

    async fn read_order(&self, id: &str, order: &mut Fields) -> Result<(), SystemError> {
        read::complete(self, id, order).await
    }

    /// Never asked: F&O declares no invoice flow ([`ErpDocuments::flows`]).
    async fn read_invoice(&self, _invoice: &mut Fields) -> Result<(), SystemError> {
        Ok(())
    }

    async fn describe_order(&self, id: &str) -> Result<Option<Vec<String>>, SystemError> {
        read::describe(self, id).await
    }

    fn interpret_order(&self, order: &Fields) -> ErpOrder {
        read::interpret(order)
    }

    /// Never asked: F&O declares no invoice flow. An invoice read as F&O's would carry
    /// nothing to write.
    fn interpret_posted_invoice(&self, _invoice: &Fields) -> PostedInvoice {
        PostedInvoice {
            number: None,
            customer_id: None,
            customer_number: None,
            currency_code: None,
            order_id: None,
            due_date: None,
            your_reference: None,
            discount_amount: 0.0,
            total_tax: 0.0,
            total_including_tax: 0.0,
            payment: PaymentState::Unpaid,
            lines: Vec::new(),
        }
    }

    async fn create_order(&self, cmd: &WriteCommand) -> Outcome {
        orders::execute(self, cmd).await
    }

    /// F&O takes no quotes from Sales: the command fails, naming the mapping to remove.
    async fn write_quote(&self, cmd: &WriteCommand) -> Outcome {
        Outcome::failed_command(
            cmd,
            "unsupported_target",
            "user",
            None,
            format!(
                "mapping {}: Finance & Operations takes sales orders from Sales, not quotes; remove the mapping from [sync] mappings",
                cmd.mapping
            ),
        )
    }

    /// Account statistics stay in F&O (no financial entries are written into Sales).
    async fn customer_statistics(
        &self,
        _customer_id: &str,
    ) -> Result<Option<Statistics>, SystemError> {
        Ok(None)
    }
}
