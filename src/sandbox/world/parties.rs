//! Customer and vendor companies, and the people of the customers.

use chrono::{DateTime, Utc};

use super::Key;

/// Where a record exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Presence {
    /// In the CRM and the ERP, with the same number.
    Both,
    /// In the CRM only.
    CrmOnly,
    /// In the ERP only.
    ErpOnly,
}

impl Presence {
    /// The presence of a record found on the sides given; `None` when on neither.
    pub(crate) fn of(on_crm: bool, on_erp: bool) -> Option<Presence> {
        match (on_crm, on_erp) {
            (true, true) => Some(Presence::Both),
            (true, false) => Some(Presence::CrmOnly),
            (false, true) => Some(Presence::ErpOnly),
            (false, false) => None,
        }
    }

    /// True when the record is in the CRM.
    pub(crate) fn on_crm(self) -> bool {
        self != Presence::ErpOnly
    }

    /// True when the record is in the ERP.
    pub(crate) fn on_erp(self) -> bool {
        self != Presence::CrmOnly
    }
}

/// A company's record in the CRM.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CrmRecord {
    /// The record's key.
    pub key: Key,
    /// Index in [`World::users`](super::World::users) of its owner.
    pub owner: usize,
    /// When it last changed.
    pub modified: DateTime<Utc>,
}

/// A customer company.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Company {
    /// The customer number (`C00001`, …); only companies in the ERP have one.
    pub number: Option<String>,
    /// Name, unique among customers.
    pub name: String,
    /// Street line.
    pub street: String,
    /// Second address line; empty when none.
    pub street2: String,
    /// City.
    pub city: String,
    /// State, province or region.
    pub state: String,
    /// Postal code.
    pub postal_code: String,
    /// ISO country code.
    pub country: String,
    /// Main phone (the CRM's; see [`ErpCustomer::phone`]).
    pub phone: String,
    /// General e-mail.
    pub email: String,
    /// Web site.
    pub website: String,
    /// ISO code of its currency.
    pub currency: String,
    /// Credit limit, in its currency.
    pub credit_limit: f64,
    /// Liable to sales tax.
    pub tax_liable: bool,
    /// Payment terms code.
    pub payment_terms: String,
    /// Shipment method code.
    pub shipment_method: String,
    /// Shipping agent code.
    pub shipping_agent: String,
    /// Salesperson code in the ERP, when it has one.
    pub salesperson: Option<String>,
    /// Its people; the first is the primary contact.
    pub people: Vec<Person>,
    /// Its record in the CRM, when there.
    pub crm: Option<CrmRecord>,
    /// Its record in the ERP, when there.
    pub erp: Option<ErpCustomer>,
}

/// A customer's record in the ERP, with what differs there.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ErpCustomer {
    /// The record's key.
    pub key: Key,
    /// When it last changed (its contacts too).
    pub modified: DateTime<Utc>,
    /// Main phone in the ERP: for a third of the companies on both sides, not the CRM's.
    pub phone: String,
    /// Balance due, in its currency.
    pub balance_due: f64,
}

/// A person working at a customer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Person {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// E-mail, unique, at the company's domain.
    pub email: String,
    /// Job title.
    pub job_title: String,
    /// Mobile phone.
    pub mobile: String,
    /// The CRM contact's key, when the company is in the CRM.
    pub crm_key: Option<Key>,
    /// The ERP contact, when the company is in the ERP.
    pub erp: Option<ErpContact>,
}

/// A person's contact record in the ERP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErpContact {
    /// The contact number (`CT000001`, …).
    pub number: String,
    /// The record's key.
    pub key: Key,
}

/// A vendor company.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Vendor {
    /// The vendor number (`V00001`, …); the CRM carries it only when the vendor is on both
    /// sides ([`Vendor::crm_number`]).
    pub number: String,
    /// Name, unique among vendors.
    pub name: String,
    /// Street line.
    pub street: String,
    /// City.
    pub city: String,
    /// State.
    pub state: String,
    /// Postal code.
    pub postal_code: String,
    /// ISO country code.
    pub country: String,
    /// Phone.
    pub phone: String,
    /// Sales e-mail.
    pub email: String,
    /// Web site.
    pub website: String,
    /// ISO code of its currency.
    pub currency: String,
    /// Liable to sales tax.
    pub tax_liable: bool,
    /// Payment terms code.
    pub payment_terms: String,
    /// Its record in the CRM, when there.
    pub crm: Option<CrmRecord>,
    /// Its record in the ERP, when there.
    pub erp: Option<ErpVendor>,
}

impl Vendor {
    /// Where the vendor exists.
    pub(crate) fn presence(&self) -> Option<Presence> {
        Presence::of(self.crm.is_some(), self.erp.is_some())
    }

    /// The number the CRM carries: the vendor number when the vendor is on both sides.
    pub(crate) fn crm_number(&self) -> Option<&str> {
        (self.presence() == Some(Presence::Both)).then_some(self.number.as_str())
    }
}

/// A vendor's record in the ERP.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ErpVendor {
    /// The record's key.
    pub key: Key,
    /// When it last changed.
    pub modified: DateTime<Utc>,
    /// Balance owed to the vendor.
    pub balance: f64,
}
