//! The sandbox's business, neutral of any vendor: the users, currencies, customers with their
//! people, vendors, items, resources, prices, opportunities and documents that every emulator
//! seeds. [`generate`] makes it from the seed; each emulator's renderer
//! (`dataverse/render.rs`, `bc/render.rs`) writes it into its own tables, with its own column
//! names and record ids, so a new emulator seeds the same business by adding a renderer.
//!
//! Records say on which side they exist: the CRM side, the ERP side, or both (the same
//! number, name and contact e-mails on both). What both sides share is a neutral value (a
//! customer number, an item number, a code); what one side names its records by is a
//! [`Key`] drawn for that side, which a renderer turns into its own id.

mod catalogue;
mod documents;
mod gen_catalogue;
mod gen_documents;
mod gen_parties;
mod gen_pricelists;
mod generate;
pub(crate) mod names;
mod parties;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};

pub(crate) use catalogue::{
    AmountType, Asset, CrmPriceList, GroupPrice, Item, Opportunity, OpportunityStatus, PriceGroup,
    PriceList, PriceListLine, PriceType, Resource,
};
pub(crate) use documents::{
    Invoice, InvoiceLine, InvoiceLineKind, OpeningStock, Order, OrderLine, Payment, Quote,
};
pub(crate) use generate::{draw_key, generate};
pub(crate) use parties::{
    Company, CrmRecord, ErpContact, ErpCustomer, ErpVendor, Person, Presence, Vendor,
};

/// A record's identity on one side: 128 bits drawn from the seed, shaped as a random
/// (version 4) UUID. A renderer whose system names records by GUID writes it as one
/// ([`Key::uuid`]); ordering keys orders those GUIDs the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key(pub [u8; 16]);

impl Key {
    /// The key as a UUID.
    pub(crate) fn uuid(self) -> uuid::Uuid {
        uuid::Uuid::from_bytes(self.0)
    }
}

/// Everything the sandbox seeds, as of [`World::now`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct World {
    /// The seeding time: every seeded time and date is relative to it.
    pub now: DateTime<Utc>,
    /// The people who work in both systems; the first is the default owner.
    pub users: Vec<User>,
    /// The user the sync engine signs in as (CRM side only).
    pub integration_user: IntegrationUser,
    /// Currencies; the ERP keeps no record of its local currency.
    pub currencies: Vec<Currency>,
    /// The ERP's local currency code.
    pub local_currency: String,
    /// Payment terms, in option order.
    pub payment_terms: Vec<Code>,
    /// Shipment methods, in option order.
    pub shipment_methods: Vec<Code>,
    /// Customer companies with their people.
    pub customers: Vec<Company>,
    /// Vendor companies.
    pub vendors: Vec<Vendor>,
    /// Items (ERP side only: the CRM gets its products by synchronisation).
    pub items: Vec<Item>,
    /// Resources (ERP side only).
    pub resources: Vec<Resource>,
    /// Customer price groups (ERP side only).
    pub price_groups: Vec<PriceGroup>,
    /// Item prices per customer price group (ERP side only).
    pub group_prices: Vec<GroupPrice>,
    /// The CRM's own price list, which the ERP does not know.
    pub crm_price_list: CrmPriceList,
    /// Opportunities of ERP contacts (ERP side only).
    pub opportunities: Vec<Opportunity>,
    /// Price lists (extended pricing, ERP side only).
    pub price_lists: Vec<PriceList>,
    /// Their lines.
    pub price_list_lines: Vec<PriceListLine>,
    /// The ERP company the records above belong to.
    pub erp_company: Key,
    /// Sales orders entered in the CRM.
    pub orders: Vec<Order>,
    /// Quotes entered in the CRM.
    pub quotes: Vec<Quote>,
    /// Sales invoices posted in the ERP, some paid.
    pub invoices: Vec<Invoice>,
    /// Opening stock of the ERP's items, in item number order.
    pub opening_stock: Vec<OpeningStock>,
}

/// A person who works in both systems.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct User {
    /// Full name.
    pub name: String,
    /// Work e-mail, the same on both sides.
    pub email: String,
    /// Mobile phone.
    pub mobile: String,
    /// When the user's record last changed.
    pub modified: DateTime<Utc>,
    /// The CRM user's key.
    pub crm_key: Key,
    /// The user as an ERP salesperson, when they are one already.
    pub salesperson: Option<Salesperson>,
}

/// A user's salesperson record in the ERP.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Salesperson {
    /// The salesperson code (customers and opportunities refer to it).
    pub code: String,
    /// Job title.
    pub job_title: String,
    /// Commission, in percent.
    pub commission_percent: f64,
    /// The ERP record's key.
    pub erp_key: Key,
}

/// The user the sync engine signs in as: an application user in the CRM.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IntegrationUser {
    /// Display name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// The app registration's client id it signs in with.
    pub app_id: String,
    /// When its record last changed.
    pub modified: DateTime<Utc>,
    /// The CRM user's key.
    pub crm_key: Key,
}

/// A currency, on the CRM side always and on the ERP side unless it is the local currency.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Currency {
    /// ISO 4217 code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Symbol.
    pub symbol: String,
    /// Units per US dollar.
    pub rate: f64,
    /// When its records last changed.
    pub modified: DateTime<Utc>,
    /// The CRM record's key.
    pub crm_key: Key,
    /// The ERP record's key; `None` for the ERP's local currency.
    pub erp_key: Option<Key>,
}

/// A coded value the ERP keeps as a record (payment terms, shipment methods).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Code {
    /// The code, as both sides name it.
    pub code: String,
    /// The ERP record's key.
    pub erp_key: Key,
}
