//! The Dataverse currency table: ISO code ↔ `transactioncurrency` id.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::RwLock;

/// Where the CRM's currencies come from.
#[async_trait]
pub trait CurrencySource: Send + Sync {
    /// `(ISO code, currency id)` pairs.
    async fn load(&self) -> Result<Vec<(String, String)>, String>;
}

/// ISO codes and ids of the CRM's transaction currencies, plus the ERP's local currency.
#[derive(Debug, Clone, Default)]
pub struct CurrencyTable {
    inner: Arc<RwLock<Tables>>,
}

#[derive(Debug, Default)]
struct Tables {
    by_iso: HashMap<String, String>,
    by_id: HashMap<String, String>,
    lcy: String,
}

impl CurrencyTable {
    /// An empty table whose local currency (a blank ERP code) is `lcy`.
    pub fn new(lcy: &str) -> Self {
        let t = CurrencyTable::default();
        t.inner.write().lcy = lcy.to_ascii_uppercase();
        t
    }

    /// Replaces the table with `(iso code, id)` pairs.
    pub fn set(&self, rows: impl IntoIterator<Item = (String, String)>) {
        let mut t = self.inner.write();
        t.by_iso.clear();
        t.by_id.clear();
        for (iso, id) in rows {
            let iso = iso.to_ascii_uppercase();
            t.by_id.insert(id.to_ascii_lowercase(), iso.clone());
            t.by_iso.insert(iso, id.to_ascii_lowercase());
        }
    }

    /// The local currency's ISO code.
    pub fn lcy(&self) -> String {
        self.inner.read().lcy.clone()
    }

    /// The CRM currency id for an ERP code (blank = local currency).
    pub fn id_for_erp_code(&self, code: &str) -> Option<String> {
        let t = self.inner.read();
        let iso = if code.trim().is_empty() {
            t.lcy.clone()
        } else {
            code.trim().to_ascii_uppercase()
        };
        t.by_iso.get(&iso).cloned()
    }

    /// The ERP code for a CRM currency id (the local currency becomes blank when
    /// `local_blank`, as Business Central writes it).
    pub fn erp_code_for_id(&self, id: &str, local_blank: bool) -> Option<String> {
        let t = self.inner.read();
        let iso = t.by_id.get(&id.to_ascii_lowercase())?;
        Some(if local_blank && *iso == t.lcy {
            String::new()
        } else {
            iso.clone()
        })
    }

    /// Number of currencies known.
    pub fn len(&self) -> usize {
        self.inner.read().by_iso.len()
    }

    /// True when no currency is known yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_local_currency_both_ways() {
        let t = CurrencyTable::new("usd");
        t.set([("USD".into(), "A".into()), ("EUR".into(), "B".into())]);
        assert_eq!(t.id_for_erp_code("").as_deref(), Some("a"));
        assert_eq!(t.id_for_erp_code("eur").as_deref(), Some("b"));
        assert_eq!(t.erp_code_for_id("A", true).as_deref(), Some(""));
        assert_eq!(t.erp_code_for_id("A", false).as_deref(), Some("USD"));
        assert_eq!(t.erp_code_for_id("b", true).as_deref(), Some("EUR"));
        assert_eq!(t.id_for_erp_code("XYZ"), None);
    }
}
