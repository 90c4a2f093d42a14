//! [`RecordSet`]: raw PrestaShop records grouped by resource, as read from the store.

use indexmap::IndexMap;
use prestalink_webservice::record::Record;

/// Raw records by Webservice resource name (`orders`, `order_details`, …).
#[derive(Debug, Clone, Default)]
pub struct RecordSet {
    resources: IndexMap<String, Vec<Record>>,
}

impl RecordSet {
    /// An empty set.
    pub fn new() -> Self {
        RecordSet::default()
    }

    /// Adds records of a resource.
    pub fn extend(&mut self, resource: &str, records: impl IntoIterator<Item = Record>) {
        self.resources
            .entry(resource.to_string())
            .or_default()
            .extend(records);
    }

    /// Adds one record of a resource.
    pub fn insert(&mut self, resource: &str, record: Record) {
        self.extend(resource, [record]);
    }

    /// Marks a resource as read even if it has no records (so its ids are known to be
    /// complete and references into it can be checked).
    pub fn mark_read(&mut self, resource: &str) {
        self.resources.entry(resource.to_string()).or_default();
    }

    /// Records of a resource (empty when none were read).
    pub fn records(&self, resource: &str) -> &[Record] {
        self.resources.get(resource).map_or(&[], Vec::as_slice)
    }

    /// Whether a resource was read at all.
    pub fn has(&self, resource: &str) -> bool {
        self.resources.contains_key(resource)
    }

    /// The records of the resources `keep` names only (those it names that were read).
    pub fn only(&self, keep: &[&str]) -> RecordSet {
        RecordSet {
            resources: self
                .resources
                .iter()
                .filter(|(name, _)| keep.contains(&name.as_str()))
                .map(|(name, records)| (name.clone(), records.clone()))
                .collect(),
        }
    }

    /// Resource names read, in insertion order.
    pub fn resources(&self) -> impl Iterator<Item = &str> {
        self.resources.keys().map(String::as_str)
    }
}
