//! What the SQL differs in between the two engines, and nothing else: each engine's values
//! are in `sqlite.rs` and `postgres.rs`; every query is written once, in the SQL both accept.

use super::Backend;
use super::migrate::Migration;

/// The statements and fragments that are not the same on both engines.
pub(crate) struct Dialect {
    /// Opens a write transaction.
    pub begin_write: &'static str,
    /// Locks the row of the expert `$1` until the transaction ends (bookings of one expert
    /// queue; other experts' go in parallel), or only reads it where the write transaction
    /// already holds the database's one write lock.
    pub lock_expert: &'static str,
    /// Appended to a `SELECT` whose rows the transaction will update.
    pub for_update: &'static str,
    /// Appended to the sub-select of a queue claim: rows another worker is claiming are
    /// passed over instead of waited for.
    pub skip_locked: &'static str,
    /// Run first in a transaction that records events, so that they commit in id order.
    pub event_order_lock: Option<&'static str>,
    /// Taken by the sequencer of the firms' feed, so that its batches commit one at a time
    /// (SQLite has one writer already).
    pub firm_feed_lock: Option<&'static str>,
    /// Run first in a transaction that may be lost in a crash without harm (an idempotency
    /// claim: the request is retried).
    pub relaxed_commit: Option<&'static str>,
    /// Run first in the migration transaction, so instances starting together migrate
    /// once.
    pub migration_lock: Option<&'static str>,
    /// `WHERE id {…}` matching the ids of the JSON text array `$1`.
    pub id_in_json: &'static str,
    /// Whether only one write transaction runs at a time.
    pub one_writer: bool,
    /// Whether instances can announce changes to each other through the database.
    pub announces: bool,
    /// The migrations, in order.
    pub migrations: &'static [Migration],
    /// The table of the elements of the JSON array `array`, one row each in a column
    /// `value`.
    pub elements: fn(array: &str) -> String,
    /// `columns` of the rows of `table` (aliased `a`) matching each row of `spans`
    /// (aliased `w`) by `matching`.
    pub join_each: fn(spans: &str, columns: &str, table: &str, matching: &str) -> String,
}

impl Backend {
    /// The engine's SQL differences.
    pub(crate) fn dialect(self) -> &'static Dialect {
        match self {
            Self::Sqlite => &super::sqlite::DIALECT,
            Self::Postgres => &super::postgres::DIALECT,
        }
    }
}
