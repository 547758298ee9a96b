//! The search log: slot searches as logged (without personal data), what each firm with an
//! eligible expert was offered, and the firms' reads of it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Page, StoreResult};

/// A slot search as logged.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedSearch {
    /// The `searchId` answered.
    pub id: String,
    /// When it ran.
    pub at: DateTime<Utc>,
    /// The request without address lines, coordinates or process, as a JSON object.
    pub request: String,
    /// The request's `process`.
    pub process: Option<String>,
    /// Department of the place's postal code, when a place was given.
    pub department: Option<String>,
    /// Claim type searched.
    pub claim_type: String,
    /// Experts who could take the claim.
    pub eligible_experts: u32,
    /// Slots offered.
    pub slots_offered: u32,
    /// Start of the earliest slot offered.
    pub first_slot_at: Option<DateTime<Utc>>,
    /// The diagnostic code, when no slot was offered.
    pub diagnostic: Option<String>,
    /// One share per firm with at least one eligible expert.
    pub firms: Vec<FirmShare>,
}

/// What one firm had in a search.
#[derive(Debug, Clone, PartialEq)]
pub struct FirmShare {
    /// The firm.
    pub firm_id: String,
    /// Its experts who could take the claim.
    pub eligible_experts: u32,
    /// Offered slots that were its experts'.
    pub slots_offered: u32,
    /// Start of its earliest offered slot.
    pub first_slot_at: Option<DateTime<Utc>>,
}

/// Searches made in `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Included.
    pub from: DateTime<Utc>,
    /// Excluded.
    pub to: DateTime<Utc>,
}

/// Where a page of a firm's searches (newest first) resumes: strictly before this search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchCursor {
    /// Time of the last search of the previous page (ms).
    pub at_ms: i64,
    /// Its id.
    pub id: String,
}

impl SearchCursor {
    /// Reads a cursor written by [`SearchCursor::to_string`]; `None` if it is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let (at, id) = text.split_once(':')?;
        Some(Self {
            at_ms: at.parse().ok()?,
            id: id.to_owned(),
        })
    }
}

impl std::fmt::Display for SearchCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.at_ms, self.id)
    }
}

/// A search as one firm reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct FirmSearch {
    /// The search.
    pub search: LoggedSearch,
    /// The firm's share of it (`firms` of `search` is left empty).
    pub share: FirmShare,
    /// Whether one of the firm's appointments was booked from it.
    pub booked: bool,
}

/// One cell of a firm's demand: its searches of one department, claim type and delay to
/// its first offered slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemandCell {
    /// Department of the place (`None`: no place given).
    pub department: Option<String>,
    /// Claim type.
    pub claim_type: String,
    /// Days from the search to the firm's first offered slot, in hundredths of a day
    /// rounded down; `None` for searches in which the firm offered no slot.
    pub delay_centidays: Option<i64>,
    /// Searches in the cell.
    pub searches: i64,
    /// Of those, the ones in which the firm offered no slot.
    pub without_firm_slots: i64,
    /// The firm's appointments booked from them.
    pub bookings: i64,
}

/// The search log.
#[async_trait]
pub trait SearchLog: Send + Sync + 'static {
    /// Writes searches and their firms' shares, in one transaction.
    async fn log_searches(&self, searches: &[LoggedSearch]) -> StoreResult<()>;

    /// Deletes at most `limit` of the searches made before `before`; how many it deleted.
    /// Several instances may run it at once.
    async fn forget_searches(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<u64>;

    /// The searches of `period` in which one of the firm's experts was eligible, newest
    /// first, at most `limit`, after `cursor`; with the cursor of the next page.
    async fn firm_searches(
        &self,
        firm_id: &str,
        period: Period,
        cursor: Option<&SearchCursor>,
        limit: u32,
    ) -> StoreResult<Page<FirmSearch>>;

    /// The firm's searches of `period`, counted by department, claim type and delay to the
    /// firm's first offered slot.
    async fn firm_demand(&self, firm_id: &str, period: Period) -> StoreResult<Vec<DemandCell>>;
}
