//! What a sync run does: which data types, full or incremental, and its tolerances.

use std::time::Duration;

use prestalink_commerce::DataType;
use prestalink_mapping::ModuleRules;
use tokio_util::sync::CancellationToken;

/// Options of one sync run.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Data types to bring up to date (their PrestaShop sources are read).
    pub data_types: Vec<DataType>,
    /// Read everything again even where an incremental read is possible.
    pub full: bool,
    /// How far before the last watermark an incremental read starts again: covers rows
    /// written while the previous read ran, and clock differences within the shop.
    pub lookback: Duration,
    /// Deletions of timestamped resources are found by comparing id lists, on every full
    /// sync and on every `reconcile_every`-th incremental sync (1 = every sync).
    pub reconcile_every: u32,
    /// The safety net of resources read by `date_upd`: every incremental sync also reads one
    /// `sweep_every`-th of their id range in full and compares it by content hash, so a change
    /// whose `date_upd` is older than the watermark (written by another clock) or was not
    /// bumped at all is seen within `sweep_every` incremental syncs. 0 turns it off.
    pub sweep_every: u32,
    /// Attempts per request for errors that can heal (timeouts, resets, 5xx…).
    pub max_attempts: u32,
    /// Parent ids per request when re-reading the rows of changed parents
    /// (`filter[id_order]=[1|2|…]`): bounded by URL length.
    pub children_batch: usize,
    /// Raw records mapped per page when writing commerce records.
    pub map_page: usize,
    /// Reading language id; `None` uses the shop's PS_LANG_DEFAULT.
    pub language: Option<u32>,
    /// Add-on module rules for mapping.
    pub rules: ModuleRules,
    /// Resources the key may not read (the diagnosis's missing permissions). A data type
    /// that needs one is reported `PermissionsError` at once and nothing is read for it;
    /// they are never requested.
    pub unreadable: Vec<String>,
    /// How long to wait for another sync of the same connection to finish before giving up
    /// with `SyncInProgress` (zero: give up at once).
    pub lease_wait: Duration,
    /// Asks the run to stop at its next checkpoint (after a page is written, between
    /// waves of reads): a worker whose time slice is over cancels it, the run ends with
    /// [`crate::SyncError::Yielded`] and the next run resumes from the checkpoints. Never
    /// cancelled by default.
    pub yield_signal: CancellationToken,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            data_types: DataType::ALL.to_vec(),
            full: false,
            lookback: Duration::from_secs(15 * 60),
            reconcile_every: 5,
            sweep_every: 8,
            max_attempts: 6,
            children_batch: 50,
            map_page: 500,
            language: None,
            rules: ModuleRules::builtin(),
            unreadable: Vec::new(),
            lease_wait: Duration::ZERO,
            yield_signal: CancellationToken::new(),
        }
    }
}
