//! `[orders]`: how Dataverse sales orders become Business Central sales orders.

use serde::Deserialize;

/// What a write-in product line becomes (Business Central's "Write-in Product Type").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum WriteInType {
    /// An item line.
    Item,
    /// A resource line.
    Resource,
}

impl WriteInType {
    /// The API v2.0 `lineType`.
    pub fn line_type(self) -> &'static str {
        match self {
            WriteInType::Item => "Item",
            WriteInType::Resource => "Resource",
        }
    }
}

/// `[orders]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrdersConfig {
    /// Create a Business Central order automatically when a Dataverse order becomes Submitted
    /// (Business Central's "Auto Create Sales Orders"). When false, only
    /// `couplet orders create-in-erp` creates them.
    #[serde(default = "default_true")]
    pub auto_create: bool,
    /// The item (or resource) number that write-in product lines are written on (Business
    /// Central's "Write-in Product No."). Without it, an order with a write-in line fails.
    #[serde(default)]
    pub write_in_product: Option<String>,
    /// Whether `write_in_product` is an `Item` or a `Resource`.
    #[serde(default = "default_write_in_type")]
    pub write_in_type: WriteInType,
    /// The G/L account number freight is charged on (Business Central's "Freight G/L Acc.
    /// No."). Without it, an order with freight fails.
    #[serde(default)]
    pub freight_account: Option<String>,
}

impl Default for OrdersConfig {
    fn default() -> Self {
        OrdersConfig {
            auto_create: default_true(),
            write_in_product: None,
            write_in_type: default_write_in_type(),
            freight_account: None,
        }
    }
}

fn default_true() -> bool {
    true
}
fn default_write_in_type() -> WriteInType {
    WriteInType::Item
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_defaults_and_rejects_unknown_fields() {
        let c: OrdersConfig = toml::from_str("").unwrap();
        assert_eq!(c, OrdersConfig::default());
        assert!(c.auto_create);
        let c: OrdersConfig = toml::from_str(
            "auto_create = false\nwrite_in_product = \"WRITE-IN\"\nwrite_in_type = \"Resource\"",
        )
        .unwrap();
        assert!(!c.auto_create);
        assert_eq!(c.write_in_type.line_type(), "Resource");
        assert!(toml::from_str::<OrdersConfig>("bogus = 1").is_err());
    }
}
