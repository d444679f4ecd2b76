//! What is sold and at what price: items, resources, customer price groups and their prices,
//! price lists, the CRM's own price list, and the ERP's opportunities.

use chrono::{DateTime, NaiveDate, Utc};

use super::Key;

/// An item (ERP side only).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    /// The item number (`I00001`, …).
    pub number: String,
    /// Name.
    pub name: String,
    /// Base unit of measure code.
    pub unit: String,
    /// Unit cost.
    pub cost: f64,
    /// Unit price (cost plus 40 %).
    pub price: f64,
    /// Blocked for sale.
    pub blocked: bool,
    /// Quantity on hand (see [`OpeningStock`](super::OpeningStock)).
    pub stock: f64,
    /// When it last changed.
    pub modified: DateTime<Utc>,
    /// The ERP record's key.
    pub erp_key: Key,
    /// The key of its base unit of measure in the ERP.
    pub unit_key: Key,
}

/// A resource: a person whose hours are sold (ERP side only).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Resource {
    /// The resource number (`R00001`, …).
    pub number: String,
    /// Name.
    pub name: String,
    /// Unit of measure code.
    pub unit: String,
    /// Cost per unit.
    pub cost: f64,
    /// Price per unit.
    pub price: f64,
    /// Capacity, in units.
    pub capacity: f64,
    /// When it last changed.
    pub modified: DateTime<Utc>,
    /// The ERP record's key.
    pub erp_key: Key,
}

/// A customer price group (ERP side only).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PriceGroup {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// When it last changed.
    pub modified: DateTime<Utc>,
    /// The ERP record's key.
    pub erp_key: Key,
}

/// An item's price for a customer price group, in the local currency, from any quantity.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupPrice {
    /// The item number.
    pub item: String,
    /// The price group's code.
    pub group: String,
    /// Unit of measure code.
    pub unit: String,
    /// Unit price.
    pub price: f64,
    /// When it last changed.
    pub modified: DateTime<Utc>,
    /// The ERP record's key.
    pub erp_key: Key,
}

/// The CRM's own price list, active, which the ERP does not know.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CrmPriceList {
    /// Name.
    pub name: String,
    /// ISO code of its currency.
    pub currency: String,
    /// Index in [`World::users`](super::World::users) of who made it.
    pub owner: usize,
    /// When it last changed.
    pub modified: DateTime<Utc>,
    /// The CRM record's key.
    pub crm_key: Key,
}

/// Whether an opportunity is being worked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpportunityStatus {
    /// Not started yet.
    NotStarted,
    /// In progress.
    InProgress,
}

/// An opportunity of an ERP contact (ERP side only).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Opportunity {
    /// The opportunity number (`OP000001`, …).
    pub number: String,
    /// Description.
    pub description: String,
    /// The contact's number in the ERP.
    pub contact: String,
    /// The salesperson's code.
    pub salesperson: String,
    /// Status.
    pub status: OpportunityStatus,
    /// Estimated value.
    pub estimated_value: f64,
    /// Estimated closing date.
    pub closing_date: NaiveDate,
    /// When it last changed.
    pub modified: DateTime<Utc>,
    /// The ERP record's key.
    pub erp_key: Key,
}

/// What a price list prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PriceType {
    /// Sales.
    Sale,
    /// Purchases.
    Purchase,
}

/// What a price list's lines give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AmountType {
    /// Unit prices.
    Price,
    /// Line discounts.
    Discount,
}

/// A price list (ERP side only).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PriceList {
    /// Code from the price list number series (`S00001`, `P00001`).
    pub code: String,
    /// Description.
    pub description: String,
    /// ISO code of its currency; empty for the local currency.
    pub currency: String,
    /// Sales or purchases.
    pub price_type: PriceType,
    /// Prices or discounts.
    pub amount_type: AmountType,
    /// Active (else a draft).
    pub active: bool,
    /// First day it applies.
    pub starting: NaiveDate,
    /// Last day it applies; `None` for open-ended.
    pub ending: Option<NaiveDate>,
    /// When it last changed.
    pub modified: DateTime<Utc>,
    /// The ERP record's key.
    pub erp_key: Key,
}

/// What a price list line prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Asset {
    /// An item.
    Item,
    /// A resource.
    Resource,
}

/// A line of a price list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PriceListLine {
    /// Index in [`World::price_lists`](super::World::price_lists) of its price list.
    pub list: usize,
    /// Item or resource.
    pub asset: Asset,
    /// The item or resource number.
    pub number: String,
    /// Unit of measure code.
    pub unit: String,
    /// Minimum quantity.
    pub minimum_quantity: f64,
    /// Unit price (0 on a discount line).
    pub price: f64,
    /// When it last changed.
    pub modified: DateTime<Utc>,
    /// The ERP record's key.
    pub erp_key: Key,
}
