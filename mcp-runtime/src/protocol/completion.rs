//! Completion results (MCP `CompleteResult.completion`).

use serde::{Deserialize, Serialize};

/// The most values one completion result carries (2025-11-25 `completion/complete`).
pub const MAX_COMPLETION_VALUES: usize = 100;

/// Suggested values for an argument being typed, as returned by a `#[completion]` method.
///
/// A method may return `Vec<String>` instead; either way more than
/// [`MAX_COMPLETION_VALUES`] values are cut to that many, with `has_more` set and `total`
/// (when not given) set to the number of values before the cut.
///
/// ```
/// use mcp_runtime::prelude::*;
///
/// let some = Completion::new(vec!["apple".into(), "apricot".into()]).with_total(12);
/// assert!(some.has_more == Some(true));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Completion {
    /// The values, best first.
    pub values: Vec<String>,
    /// How many values there are in all, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Whether there are more values than these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more: Option<bool>,
}

impl Completion {
    /// These values, and nothing said about others.
    pub fn new(values: Vec<String>) -> Self {
        Self {
            values,
            total: None,
            has_more: None,
        }
    }

    /// The same values out of `total`; sets `has_more` when `total` exceeds them.
    #[must_use]
    pub fn with_total(mut self, total: u64) -> Self {
        self.total = Some(total);
        let shown = u64::try_from(self.values.len()).unwrap_or(u64::MAX);
        self.has_more = Some(total > shown);
        self
    }

    /// Cuts the values to [`MAX_COMPLETION_VALUES`], saying there are more.
    pub(crate) fn truncated(mut self) -> Self {
        if self.values.len() > MAX_COMPLETION_VALUES {
            let total = u64::try_from(self.values.len()).unwrap_or(u64::MAX);
            self.values.truncate(MAX_COMPLETION_VALUES);
            self.has_more = Some(true);
            self.total = Some(self.total.map_or(total, |t| t.max(total)));
        }
        self
    }
}

impl From<Vec<String>> for Completion {
    fn from(values: Vec<String>) -> Self {
        Self::new(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_lists_are_cut_to_one_hundred() {
        let values: Vec<String> = (0..250).map(|i| i.to_string()).collect();
        let c = Completion::new(values).truncated();
        assert_eq!(c.values.len(), 100);
        assert_eq!(c.total, Some(250));
        assert_eq!(c.has_more, Some(true));
        let c = Completion::new(vec!["a".into()]).truncated();
        assert_eq!(serde_json::to_value(c).unwrap(), json!({"values": ["a"]}));
    }
}
