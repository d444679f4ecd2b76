//! The stored form of a message, the sled keys, and the partitioner.

/// Format version of a stored message with a value (the value's bytes end the record).
const VERSION: u8 = 1;
/// Format version of a stored tombstone (a null value: nothing follows the headers). Version 1
/// records, written before tombstones existed, stay readable; an empty value in one of them
/// is an empty value.
const TOMBSTONE: u8 = 2;

/// A message as stored (the topic, partition and offset come from where it is).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Record {
    /// Append time, milliseconds since the epoch.
    pub(super) ts_ms: i64,
    pub(super) key: String,
    pub(super) headers: Vec<(String, String)>,
    /// `None`: a tombstone.
    pub(super) value: Option<Vec<u8>>,
}

/// The partition of `key` among `partitions`: FNV-1a (32 bits) of the key's bytes, so the
/// mapping is the same in every process and across restarts.
pub(super) fn partition_for(key: &str, partitions: u32) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in key.as_bytes() {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h % partitions.max(1)
}

/// Big-endian `(partition, offset)`.
pub(super) fn message_key(partition: u32, offset: u64) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..4].copy_from_slice(&partition.to_be_bytes());
    k[4..].copy_from_slice(&offset.to_be_bytes());
    k
}

/// The offset in a message key, if the key has the right shape.
pub(super) fn offset_of(key: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = key.get(4..12)?.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Serialises a message: version, timestamp, key, headers, then the value (none for a
/// tombstone, whose version says so).
pub(super) fn encode(
    ts_ms: i64,
    key: &str,
    headers: &[(String, String)],
    value: Option<&[u8]>,
) -> Vec<u8> {
    let size = 1
        + 8
        + 4
        + key.len()
        + 4
        + headers
            .iter()
            .map(|(n, v)| 8 + n.len() + v.len())
            .sum::<usize>()
        + value.map_or(0, <[u8]>::len);
    let mut out = Vec::with_capacity(size);
    out.push(if value.is_some() { VERSION } else { TOMBSTONE });
    out.extend_from_slice(&ts_ms.to_be_bytes());
    put_str(&mut out, key);
    out.extend_from_slice(&(headers.len() as u32).to_be_bytes());
    for (n, v) in headers {
        put_str(&mut out, n);
        put_str(&mut out, v);
    }
    if let Some(v) = value {
        out.extend_from_slice(v);
    }
    out
}

/// A cursor over stored bytes that fails instead of panicking.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.bytes.len() < n {
            return Err(format!(
                "truncated: needed {n} more bytes, {} left",
                self.bytes.len()
            ));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn string(&mut self) -> Result<String, String> {
        let n = self.u32()? as usize;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|e| format!("not UTF-8: {e}"))
    }
}

/// Reads the format version (true: a tombstone) and the timestamp.
fn header(r: &mut Reader<'_>) -> Result<(bool, i64), String> {
    let [v] = r.array::<1>()?;
    let tombstone = match v {
        VERSION => false,
        TOMBSTONE => true,
        _ => return Err(format!("unknown message format version {v}")),
    };
    Ok((tombstone, i64::from_be_bytes(r.array()?)))
}

/// Only the timestamp of a stored message (for time searches).
pub(super) fn decode_ts(bytes: &[u8]) -> Result<i64, String> {
    header(&mut Reader { bytes }).map(|(_, ts)| ts)
}

/// The format version (true: a tombstone), timestamp and key of a stored message, without
/// copying its headers or value (for compaction).
pub(super) fn decode_head(bytes: &[u8]) -> Result<(bool, i64, String), String> {
    let mut r = Reader { bytes };
    let (tombstone, ts) = header(&mut r)?;
    Ok((tombstone, ts, r.string()?))
}

/// Deserialises a stored message.
pub(super) fn decode(bytes: &[u8]) -> Result<Record, String> {
    let mut r = Reader { bytes };
    let (tombstone, ts_ms) = header(&mut r)?;
    let key = r.string()?;
    let n = r.u32()? as usize;
    let mut headers = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        headers.push((r.string()?, r.string()?));
    }
    Ok(Record {
        ts_ms,
        key,
        headers,
        value: match tombstone {
            false => Some(r.bytes.to_vec()),
            true if r.bytes.is_empty() => None,
            true => return Err(format!("a tombstone with {} bytes of value", r.bytes.len())),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_truncation() {
        let h = vec![("a".to_string(), "1".to_string())];
        let b = encode(42, "bc/customers/1", &h, Some(b"value"));
        let r = decode(&b).unwrap();
        assert_eq!(r.ts_ms, 42);
        assert_eq!(r.key, "bc/customers/1");
        assert_eq!(r.headers, h);
        assert_eq!(r.value.as_deref(), Some(&b"value"[..]));
        assert!(decode(&b[..12]).is_err());
        assert!(decode(&[]).is_err());
    }

    #[test]
    fn a_tombstone_is_not_an_empty_value() {
        let gone = encode(7, "k", &[], None);
        assert_eq!(decode(&gone).unwrap().value, None);
        assert_eq!(decode_ts(&gone).unwrap(), 7);
        assert_eq!(decode_head(&gone).unwrap(), (true, 7, "k".to_string()));
        let empty = encode(7, "k", &[], Some(b""));
        assert_eq!(decode(&empty).unwrap().value, Some(Vec::new()));
        // A version-1 record (written before tombstones) with no value bytes is an empty value.
        assert_eq!(empty[0], VERSION);
        let mut bad = gone.clone();
        bad.push(1);
        assert!(decode(&bad).is_err());
    }

    #[test]
    fn partitioner_is_stable() {
        // FNV-1a 32 of "a" is 0xe40c292c.
        assert_eq!(partition_for("a", 1 << 31), 0xe40c_292c & 0x7fff_ffff);
        assert_eq!(partition_for("x", 1), 0);
    }
}
