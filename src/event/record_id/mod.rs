//! The key codec: a record's primary key as an ordered list of typed columns (one GUID for
//! Dataverse and Business Central, `dataAreaId` + `CustomerAccount` for F&O, a `CardCode`
//! string or a `DocEntry` integer for SAP Business One), and its encoding as the single id
//! string of a [`RecordKey`](super::RecordKey) (`<system>/<entity>/<id>`).
//!
//! # The encoding
//!
//! - A one-column key is its value: a GUID or a string as it is, an integer in decimal. So
//!   every id written before composite keys existed (a GUID) encodes to the very same string,
//!   and logs and projections written then stay readable.
//! - A composite key is `column=value` for each column in the shape's order, joined by `,`:
//!   `dataAreaId=usmf,CustomerAccount=US-001`.
//! - In a value (and a column name), `%` and `/` are written `%25` and `%2F`, and in a
//!   composite key also `,` and `=` (`%2C`, `%3D`), so an id never holds `/` and splits
//!   unambiguously. Every other character, non-ASCII included, stays as it is.
//!
//! Decoding needs the entity set's [`KeyShape`] (a one-column `123` is an integer for SAP's
//! `Orders` and a string for its `BusinessPartners`) and accepts only the canonical encoding,
//! so one record has exactly one id.
//!
//! Rendering a key in a URL (the OData key predicate) is the systems' business:
//! `systems::http::urls::key_predicate`.

use std::fmt;

/// A record's columns (the same type as `event::key::Fields`, named here so the codec
/// imports nothing of the record keys that use it).
type Fields = serde_json::Map<String, serde_json::Value>;

/// How a key column's values are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// A GUID (Dataverse, Business Central): kept as the system wrote it, unquoted in URLs.
    Guid,
    /// A string (F&O's `CustomerAccount`, SAP B1's `CardCode`): quoted in URLs.
    String,
    /// An integer (SAP B1's `DocEntry`).
    Int,
}

/// One column of a key shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyColumn {
    /// The column's name, as the system's API spells it.
    pub name: String,
    /// How its values are typed.
    pub kind: KeyKind,
}

/// The primary-key columns of an entity set, in the order the system lists them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyShape(Vec<KeyColumn>);

impl KeyShape {
    /// One GUID column (`accountid`, Business Central's `id`).
    pub fn guid(column: impl Into<String>) -> Self {
        Self::single(column, KeyKind::Guid)
    }

    /// One string column (SAP B1's `CardCode`).
    pub fn string(column: impl Into<String>) -> Self {
        Self::single(column, KeyKind::String)
    }

    /// One integer column (SAP B1's `DocEntry`).
    pub fn int(column: impl Into<String>) -> Self {
        Self::single(column, KeyKind::Int)
    }

    /// One column of `kind`.
    pub fn single(column: impl Into<String>, kind: KeyKind) -> Self {
        KeyShape(vec![KeyColumn {
            name: column.into(),
            kind,
        }])
    }

    /// Several columns, in order (F&O's `dataAreaId`, `CustomerAccount`).
    pub fn composite<N: Into<String>>(columns: impl IntoIterator<Item = (N, KeyKind)>) -> Self {
        KeyShape(
            columns
                .into_iter()
                .map(|(name, kind)| KeyColumn {
                    name: name.into(),
                    kind,
                })
                .collect(),
        )
    }

    /// The columns, in order.
    pub fn columns(&self) -> &[KeyColumn] {
        &self.0
    }

    /// The column names joined by `+`, for messages (`accountid`, `dataAreaId+CustomerAccount`).
    pub fn names(&self) -> String {
        let names: Vec<&str> = self.0.iter().map(|c| c.name.as_str()).collect();
        names.join("+")
    }
}

/// One value of a key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyValue {
    /// A GUID, as the system wrote it.
    Guid(String),
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
}

impl KeyValue {
    /// The value as JSON (a string or a number), as the system's API carries it.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            KeyValue::Guid(s) | KeyValue::Str(s) => serde_json::Value::String(s.clone()),
            KeyValue::Int(i) => serde_json::Value::from(*i),
        }
    }

    /// Reads a value of `kind` from JSON: a string for a GUID or string column; a number, or a
    /// string of decimal digits (OData's IEEE754-compatible form), for an integer column.
    fn from_json(kind: KeyKind, v: &serde_json::Value) -> Option<KeyValue> {
        match (kind, v) {
            (KeyKind::Guid, serde_json::Value::String(s)) => Some(KeyValue::Guid(s.clone())),
            (KeyKind::String, serde_json::Value::String(s)) => Some(KeyValue::Str(s.clone())),
            (KeyKind::Int, serde_json::Value::Number(n)) => n.as_i64().map(KeyValue::Int),
            (KeyKind::Int, serde_json::Value::String(s)) => s.parse().ok().map(KeyValue::Int),
            _ => None,
        }
    }

    fn encode_into(&self, out: &mut String, composite: bool) {
        match self {
            KeyValue::Guid(s) | KeyValue::Str(s) => escape_into(out, s, composite),
            KeyValue::Int(i) => out.push_str(&i.to_string()),
        }
    }
}

/// One column of a key and its value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyPart {
    /// The column's name.
    pub column: String,
    /// Its value.
    pub value: KeyValue,
}

/// A record's primary key: its key columns and their values, in the shape's order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrimaryKey(Vec<KeyPart>);

/// Why an id string is not the encoding of a key of the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The id is empty.
    #[error("the record id is empty")]
    Empty,
    /// The shape has no columns (a system's rules are wrong).
    #[error("record id '{id}': the entity set's key shape has no columns")]
    NoColumns {
        /// The id.
        id: String,
    },
    /// A `%` not followed by two hex digits, or escapes that are not UTF-8.
    #[error("record id '{id}' has a malformed %-escape: write '%' as %25")]
    BadEscape {
        /// The id.
        id: String,
    },
    /// The number of `column=value` parts differs from the shape's.
    #[error("record id '{id}' has {found} key part(s) where the key {columns} has {expected}")]
    PartCount {
        /// The id.
        id: String,
        /// How many parts the id has.
        found: usize,
        /// How many columns the key has.
        expected: usize,
        /// The key's columns.
        columns: String,
    },
    /// A part names another column than the shape's at its place.
    #[error("record id '{id}': key part {index} is '{found}', expected '{expected}=<value>'")]
    Column {
        /// The id.
        id: String,
        /// The part's position, from 1.
        index: usize,
        /// The part as written.
        found: String,
        /// The expected column.
        expected: String,
    },
    /// An integer column's value is not a 64-bit integer.
    #[error("record id '{id}': {column} must be an integer, not '{value}'")]
    NotInteger {
        /// The id.
        id: String,
        /// The column.
        column: String,
        /// The value.
        value: String,
    },
    /// The id decodes, but is not written the one way the key is encoded.
    #[error("record id '{id}' is not in canonical form: write it '{canonical}'")]
    NotCanonical {
        /// The id.
        id: String,
        /// The canonical encoding of the same key.
        canonical: String,
    },
}

impl PrimaryKey {
    /// A one-column key.
    pub fn single(column: impl Into<String>, value: KeyValue) -> Self {
        PrimaryKey(vec![KeyPart {
            column: column.into(),
            value,
        }])
    }

    /// A key of several parts, in order; `None` when there are none.
    pub fn new(parts: Vec<KeyPart>) -> Option<Self> {
        (!parts.is_empty()).then_some(PrimaryKey(parts))
    }

    /// The parts, in order.
    pub fn parts(&self) -> &[KeyPart] {
        &self.0
    }

    /// The value of `column`, if it is part of the key.
    pub fn value(&self, column: &str) -> Option<&KeyValue> {
        self.0.iter().find(|p| p.column == column).map(|p| &p.value)
    }

    /// The key of a record of `shape` read from its columns; `None` when a key column is
    /// missing or of the wrong type.
    pub fn from_fields(shape: &KeyShape, fields: &Fields) -> Option<Self> {
        let parts = shape
            .columns()
            .iter()
            .map(|c| {
                let value = KeyValue::from_json(c.kind, fields.get(&c.name)?)?;
                Some(KeyPart {
                    column: c.name.clone(),
                    value,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        PrimaryKey::new(parts)
    }

    /// The id string of this key (see the module's documentation); never holds `/`.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        match self.0.as_slice() {
            [one] => one.value.encode_into(&mut out, false),
            parts => {
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    escape_into(&mut out, &p.column, true);
                    out.push('=');
                    p.value.encode_into(&mut out, true);
                }
            }
        }
        out
    }

    /// The key of shape `shape` that `id` encodes. Only the canonical encoding is accepted.
    pub fn decode(id: &str, shape: &KeyShape) -> Result<Self, KeyError> {
        if id.is_empty() {
            return Err(KeyError::Empty);
        }
        let key = match shape.columns() {
            [] => return Err(KeyError::NoColumns { id: id.to_string() }),
            [one] => PrimaryKey::single(one.name.clone(), typed(id, one, &unescape(id, id)?)?),
            columns => {
                let written: Vec<&str> = id.split(',').collect();
                if written.len() != columns.len() {
                    return Err(KeyError::PartCount {
                        id: id.to_string(),
                        found: written.len(),
                        expected: columns.len(),
                        columns: shape.names(),
                    });
                }
                let mut parts = Vec::with_capacity(columns.len());
                for (i, (part, col)) in written.iter().zip(columns).enumerate() {
                    let value = match part.split_once('=') {
                        Some((name, value)) if unescape(id, name)? == col.name => value,
                        _ => {
                            return Err(KeyError::Column {
                                id: id.to_string(),
                                index: i + 1,
                                found: part.to_string(),
                                expected: col.name.clone(),
                            });
                        }
                    };
                    parts.push(KeyPart {
                        column: col.name.clone(),
                        value: typed(id, col, &unescape(id, value)?)?,
                    });
                }
                PrimaryKey(parts)
            }
        };
        let canonical = key.encode();
        if canonical != id {
            return Err(KeyError::NotCanonical {
                id: id.to_string(),
                canonical,
            });
        }
        Ok(key)
    }
}

impl fmt::Display for PrimaryKey {
    /// The encoded id.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

/// `text` read as a value of `col`'s kind.
fn typed(id: &str, col: &KeyColumn, text: &str) -> Result<KeyValue, KeyError> {
    Ok(match col.kind {
        KeyKind::Guid => KeyValue::Guid(text.to_string()),
        KeyKind::String => KeyValue::Str(text.to_string()),
        KeyKind::Int => KeyValue::Int(text.parse().map_err(|_| KeyError::NotInteger {
            id: id.to_string(),
            column: col.name.clone(),
            value: text.to_string(),
        })?),
    })
}

/// Appends `s` with `%` and `/` escaped, and in a composite key `,` and `=` too.
fn escape_into(out: &mut String, s: &str, composite: bool) {
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            ',' if composite => out.push_str("%2C"),
            '=' if composite => out.push_str("%3D"),
            c => out.push(c),
        }
    }
}

/// `s` with its `%XX` escapes decoded (`id`, the whole id, names it in errors).
fn unescape(id: &str, s: &str) -> Result<String, KeyError> {
    let bad = || KeyError::BadEscape { id: id.to_string() };
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                .and_then(|h| std::str::from_utf8(h).ok())
                .ok_or_else(bad)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

#[cfg(test)]
mod tests;
