//! Pagination of `tools/list`, `resources/list`, `resources/templates/list` and
//! `prompts/list`, every page serialized once for each era.
//!
//! 2025-11-25 `server/utilities/pagination`: the server picks the page size; `nextCursor` is
//! opaque; an invalid cursor SHOULD be -32602. Here a cursor is the base64url form of the
//! page's offset plus a checksum over the list's kind, length and the server's identity, so
//! it needs no server state (any replica of the same build reads it) and a cursor from
//! another list, or from before the list changed size, is refused. An empty-string cursor is
//! the first page (2026-07-28 allows it as a valid cursor).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::protocol::RpcError;

/// Items per page.
pub(crate) const PAGE_SIZE: usize = 100;

/// One list, paged.
pub(crate) struct Pages {
    key: &'static str,
    len: usize,
    salt: u64,
    legacy: Vec<Bytes>,
    modern: Vec<Bytes>,
}

impl Pages {
    /// Pages `items` under `key`; `modern` holds the fields every 2026-07-28 page carries
    /// (`resultType`, `ttlMs`, `cacheScope`, `_meta`); `identity` tells servers apart.
    pub(crate) fn new(
        key: &'static str,
        items: &[Value],
        modern: &Map<String, Value>,
        identity: &str,
    ) -> Self {
        let salt = fnv1a(identity.as_bytes(), FNV_OFFSET);
        let mut pages = Self {
            key,
            len: items.len(),
            salt,
            legacy: Vec::new(),
            modern: Vec::new(),
        };
        let chunks: Vec<&[Value]> = if items.is_empty() {
            vec![&[]]
        } else {
            items.chunks(PAGE_SIZE).collect()
        };
        for (i, chunk) in chunks.iter().enumerate() {
            let mut page = Map::new();
            page.insert(key.into(), Value::Array(chunk.to_vec()));
            let next = (i + 1) * PAGE_SIZE;
            if next < items.len() {
                page.insert("nextCursor".into(), pages.cursor(next).into());
            }
            pages.legacy.push(to_bytes(&page));
            page.extend(modern.clone());
            pages.modern.push(to_bytes(&page));
        }
        pages
    }

    /// The page a request's `cursor` names.
    ///
    /// # Errors
    ///
    /// -32602 for a cursor this list did not issue.
    pub(crate) fn page(&self, cursor: Option<&Value>, modern: bool) -> Result<Bytes, RpcError> {
        let index = match cursor {
            None | Some(Value::Null) => 0,
            Some(Value::String(c)) if c.is_empty() => 0,
            Some(Value::String(c)) => {
                self.offset(c).ok_or_else(|| {
                    RpcError::invalid_params(format!("invalid cursor for the {} list", self.key))
                })? / PAGE_SIZE
            }
            Some(_) => return Err(RpcError::invalid_params("`cursor` must be a string")),
        };
        let pages = if modern { &self.modern } else { &self.legacy };
        Ok(pages[index].clone())
    }

    fn cursor(&self, offset: usize) -> String {
        let offset = u32::try_from(offset).unwrap_or(u32::MAX);
        let mut raw = [0u8; 8];
        raw[..4].copy_from_slice(&offset.to_be_bytes());
        raw[4..].copy_from_slice(&self.check(offset).to_be_bytes());
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// The offset a cursor names, if this list issued it.
    fn offset(&self, cursor: &str) -> Option<usize> {
        let raw = URL_SAFE_NO_PAD.decode(cursor).ok()?;
        let raw: [u8; 8] = raw.try_into().ok()?;
        let offset = u32::from_be_bytes(raw[..4].try_into().ok()?);
        let check = u32::from_be_bytes(raw[4..].try_into().ok()?);
        let at = usize::try_from(offset).ok()?;
        (check == self.check(offset) && at % PAGE_SIZE == 0 && at > 0 && at < self.len)
            .then_some(at)
    }

    fn check(&self, offset: u32) -> u32 {
        let mut h = fnv1a(self.key.as_bytes(), self.salt);
        h = fnv1a(&(self.len as u64).to_be_bytes(), h);
        h = fnv1a(&offset.to_be_bytes(), h);
        // The high half mixes every input byte.
        u32::try_from(h >> 32).unwrap_or_default()
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv1a(bytes: &[u8], mut hash: u64) -> u64 {
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

fn to_bytes(value: &Map<String, Value>) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("serializing a JSON value cannot fail"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page(pages: &Pages, cursor: Option<&Value>) -> Result<Value, RpcError> {
        pages
            .page(cursor, false)
            .map(|b| serde_json::from_slice(&b).unwrap())
    }

    #[test]
    fn cursors_walk_the_pages_and_forgeries_are_refused() {
        let items: Vec<Value> = (0..250).map(|i| json!(i)).collect();
        let pages = Pages::new("tools", &items, &Map::new(), "s 1");
        let first = page(&pages, None).unwrap();
        assert_eq!(first["tools"].as_array().unwrap().len(), 100);
        assert_eq!(page(&pages, Some(&json!(""))).unwrap(), first);
        let second = page(&pages, Some(&first["nextCursor"])).unwrap();
        assert_eq!(second["tools"][0], 100);
        let third = page(&pages, Some(&second["nextCursor"])).unwrap();
        assert_eq!(third["tools"].as_array().unwrap().len(), 50);
        assert!(third.get("nextCursor").is_none());

        let other = Pages::new("prompts", &items, &Map::new(), "s 1");
        assert!(page(&other, Some(&first["nextCursor"])).is_err());
        let forged = URL_SAFE_NO_PAD.encode([0, 0, 0, 200, 0, 0, 0, 0]);
        assert!(page(&pages, Some(&json!(forged))).is_err());
        assert!(page(&pages, Some(&json!("not a cursor"))).is_err());
        assert!(page(&pages, Some(&json!(3))).is_err());
    }

    #[test]
    fn an_empty_list_has_one_empty_page() {
        let pages = Pages::new("resources", &[], &Map::new(), "s");
        assert_eq!(page(&pages, None).unwrap(), json!({"resources": []}));
    }
}
