//! Business Central's sales documents, behind [`ErpDocuments`]: the ERP side of the document
//! flows (`src/orders/`, `src/quotes/`, `src/invoices/`, `src/opportunities/` keep the CRM
//! side generic). Sales orders and quotes are built from CRM aggregates ([`build`]), orders
//! created once ([`orders`]), quotes created, revised and won
//! ([`quotes`], [`quote_revise`], [`quote_link`]), an order read whole with its posted
//! documents ([`order_read`]) or in words ([`describe`]), a posted invoice with its lines
//! ([`invoice_read`]), both in the flows' terms ([`interpret`]), the
//! Opportunity No. of a document read ([`opportunity_link`]), and a customer's account
//! statistics ([`statistics`]).

pub mod build;
pub mod describe;
pub mod interpret;
pub mod invoice_read;
pub mod opportunity_link;
pub mod order_read;
pub mod orders;
pub mod quote_lines;
pub mod quote_link;
pub mod quote_revise;
pub mod quotes;
pub mod sets;
pub mod statistics;

use async_trait::async_trait;

use super::client::BcClient;
use crate::event::{Fields, Outcome, WriteCommand};
use crate::invoices::figures::Statistics;
use crate::orders::build::DocumentBuilder;
use crate::systems::connector::ErpDocuments;
use crate::systems::documents::{ErpOrder, PostedInvoice};
use crate::systems::error::SystemError;

#[async_trait]
impl ErpDocuments for BcClient {
    fn builder(&self) -> &dyn DocumentBuilder {
        &build::SalesDocuments
    }

    async fn read_order(&self, id: &str, order: &mut Fields) -> Result<(), SystemError> {
        order_read::complete(self, id, order).await
    }

    async fn read_invoice(&self, invoice: &mut Fields) -> Result<(), SystemError> {
        invoice_read::complete(self, invoice).await
    }

    async fn describe_order(&self, id: &str) -> Result<Option<Vec<String>>, SystemError> {
        describe::order(self, id).await
    }

    fn interpret_order(&self, order: &Fields) -> ErpOrder {
        interpret::order(order)
    }

    fn interpret_posted_invoice(&self, invoice: &Fields) -> PostedInvoice {
        interpret::posted_invoice(invoice)
    }

    async fn create_order(&self, cmd: &WriteCommand) -> Outcome {
        orders::execute(self, cmd).await
    }

    async fn write_quote(&self, cmd: &WriteCommand) -> Outcome {
        quotes::execute(self, cmd).await
    }

    async fn customer_statistics(
        &self,
        customer_id: &str,
    ) -> Result<Option<Statistics>, SystemError> {
        statistics::read(self, customer_id).await
    }
}
