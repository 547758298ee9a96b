//! What a firm reads of the search log: the searches in which one of its experts was
//! eligible, and its demand by department and claim type.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::service::{Error, Result, Service};
use crate::store::{DemandCell, FirmSearch, Page, Period, SearchCursor};
use crate::wire::render;

/// Longest period read at once, in days.
pub const MAX_PERIOD_DAYS: i64 = 366;
/// Period read when `from` is not given: this many days before `to`.
const DEFAULT_PERIOD_DAYS: i64 = 30;

/// A search as a firm reads it. Instants are in the firm's time zone.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchView {
    /// The `searchId` Claims IA was answered.
    pub search_id: String,
    /// When the search ran.
    pub at: String,
    /// The search body without address lines, coordinates or `process`; the place keeps
    /// its postal code, city and country, plus its `department`.
    #[schema(value_type = Object)]
    pub request: serde_json::Value,
    /// The request's free text.
    pub process: Option<String>,
    /// Experts, of every firm, who could take the claim.
    pub eligible_experts: u32,
    /// Of those, the firm's.
    pub firm_eligible_experts: u32,
    /// Slots offered.
    pub slots_offered: u32,
    /// Of those, the firm's experts'.
    pub firm_slots_offered: u32,
    /// Start of the earliest slot offered (any firm's).
    pub first_slot_start: Option<String>,
    /// Why no slot was offered (`fully-booked`, `out-of-zone`…).
    pub diagnostic: Option<String>,
    /// Whether one of the firm's slots offered by this search was booked.
    pub booked: bool,
}

/// A firm's demand.
#[derive(Debug, Serialize, ToSchema)]
pub struct DemandView {
    /// One per department and claim type, by department (searches without a place last),
    /// then claim type.
    pub items: Vec<DemandItem>,
}

/// The firm's searches of one department and claim type.
#[derive(Debug, Serialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DemandItem {
    /// Department of the place; `null` for searches that named no place.
    pub department: Option<String>,
    /// Claim type.
    pub claim_type: String,
    /// Searches in which one of the firm's experts was eligible.
    pub searches: i64,
    /// Of those, the ones in which none of the firm's slots was offered.
    pub searches_without_firm_slots: i64,
    /// Median, over the searches in which the firm offered a slot, of the days from the
    /// search to the firm's first offered slot (to a hundredth of a day); `null` if none.
    pub median_days_to_first_slot: Option<f64>,
    /// The firm's appointments booked from these searches (whatever became of them).
    pub bookings: i64,
}

/// The period `[from, to)` asked for: `to` defaults to now, `from` to 30 days before `to`;
/// at most 366 days.
fn period(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Period> {
    let to = to.unwrap_or(now);
    let from = from.unwrap_or(to - Duration::days(DEFAULT_PERIOD_DAYS));
    if to <= from {
        return Err(Error::invalid("/to", "must be after from"));
    }
    if to - from > Duration::days(MAX_PERIOD_DAYS) {
        return Err(Error::invalid(
            "/from",
            format!("at most {MAX_PERIOD_DAYS} days before to"),
        ));
    }
    Ok(Period { from, to })
}

impl Service {
    /// A page, newest first, of the searches of `[from, to)` in which one of the firm's
    /// experts was eligible; with the position of the next page.
    pub async fn firm_searches(
        &self,
        firm_id: &str,
        (from, to): (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
        cursor: Option<&SearchCursor>,
        limit: u32,
    ) -> Result<Page<SearchView>> {
        let period = period(from, to, self.clock.now())?;
        let tz = self.store.firm(firm_id).await?.profile.time_zone.tz();
        let page = self
            .store
            .firm_searches(firm_id, period, cursor, limit)
            .await?;
        Ok(Page {
            items: page.items.into_iter().map(|s| view(s, tz)).collect(),
            next_after: page.next_after,
        })
    }

    /// The firm's searches of `[from, to)` by department and claim type.
    pub async fn firm_demand(
        &self,
        firm_id: &str,
        (from, to): (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    ) -> Result<DemandView> {
        let period = period(from, to, self.clock.now())?;
        let cells = self.store.firm_demand(firm_id, period).await?;
        Ok(DemandView {
            items: demand(cells),
        })
    }
}

fn view(found: FirmSearch, tz: chrono_tz::Tz) -> SearchView {
    let FirmSearch {
        search,
        share,
        booked,
    } = found;
    SearchView {
        at: render(search.at, tz),
        request: serde_json::from_str(&search.request).unwrap_or_default(),
        process: search.process,
        eligible_experts: search.eligible_experts,
        firm_eligible_experts: share.eligible_experts,
        slots_offered: search.slots_offered,
        firm_slots_offered: share.slots_offered,
        first_slot_start: search.first_slot_at.map(|t| render(t, tz)),
        diagnostic: search.diagnostic,
        booked,
        search_id: search.id,
    }
}

/// Sums the cells of each department and claim type, with the median delay.
fn demand(cells: Vec<DemandCell>) -> Vec<DemandItem> {
    // Searches without a place sort last.
    type Key = (bool, Option<String>, String);
    let mut groups: BTreeMap<Key, (DemandItem, Vec<(i64, i64)>)> = BTreeMap::new();
    for cell in cells {
        let key = (
            cell.department.is_none(),
            cell.department.clone(),
            cell.claim_type.clone(),
        );
        let (item, delays) = groups.entry(key).or_insert_with(|| {
            let item = DemandItem {
                department: cell.department,
                claim_type: cell.claim_type,
                searches: 0,
                searches_without_firm_slots: 0,
                median_days_to_first_slot: None,
                bookings: 0,
            };
            (item, Vec::new())
        });
        item.searches += cell.searches;
        item.searches_without_firm_slots += cell.without_firm_slots;
        item.bookings += cell.bookings;
        if let Some(delay) = cell.delay_centidays {
            delays.push((delay, cell.searches));
        }
    }
    groups
        .into_values()
        .map(|(mut item, delays)| {
            item.median_days_to_first_slot = median(delays).map(|centidays| centidays / 100.0);
            item
        })
        .collect()
}

/// The median of values given with how many times each occurs; `None` for none.
#[allow(clippy::cast_precision_loss)] // delays in hundredths of a day are far below 2^52
fn median(mut counted: Vec<(i64, i64)>) -> Option<f64> {
    counted.sort_unstable();
    let n: i64 = counted.iter().map(|&(_, times)| times).sum();
    if n <= 0 {
        return None;
    }
    // The value at 0-based rank `k`.
    let at = |k: i64| {
        let mut seen = 0;
        counted
            .iter()
            .find(|&&(_, times)| {
                seen += times;
                seen > k
            })
            .map_or(0, |&(value, _)| value)
    };
    Some((at((n - 1) / 2) + at(n / 2)) as f64 / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(department: Option<&str>, claim: &str, delay: Option<i64>, n: i64) -> DemandCell {
        DemandCell {
            department: department.map(str::to_owned),
            claim_type: claim.to_owned(),
            delay_centidays: delay,
            searches: n,
            without_firm_slots: if delay.is_none() { n } else { 0 },
            bookings: 0,
        }
    }

    #[test]
    fn the_median_of_an_odd_count_is_the_middle_value() {
        assert_eq!(median(vec![(300, 1), (100, 1), (200, 1)]), Some(200.0));
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_two_middle_values() {
        assert_eq!(
            median(vec![(100, 1), (400, 1), (200, 1), (300, 1)]),
            Some(250.0)
        );
    }

    #[test]
    fn repeated_values_count_as_many_times_as_they_occur() {
        assert_eq!(median(vec![(100, 3), (900, 2)]), Some(100.0));
        assert_eq!(median(vec![(100, 2), (900, 2)]), Some(500.0));
    }

    #[test]
    fn no_value_has_no_median() {
        assert_eq!(median(Vec::new()), None);
    }

    #[test]
    fn cells_sum_by_department_and_claim_type_with_the_median_in_days() {
        let items = demand(vec![
            cell(Some("92"), "DDE", Some(150), 1),
            cell(Some("75"), "DDE", Some(250), 2),
            cell(None, "DDE", Some(100), 1),
            cell(Some("75"), "DDE", None, 3),
            cell(Some("75"), "DDE", Some(50), 1),
            cell(Some("75"), "VOL", None, 1),
        ]);
        let keys: Vec<_> = items
            .iter()
            .map(|i| (i.department.as_deref(), i.claim_type.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                (Some("75"), "DDE"),
                (Some("75"), "VOL"),
                (Some("92"), "DDE"),
                (None, "DDE")
            ]
        );
        assert_eq!(items[0].searches, 6);
        assert_eq!(items[0].searches_without_firm_slots, 3);
        assert_eq!(items[0].median_days_to_first_slot, Some(2.5));
        assert_eq!(items[1].median_days_to_first_slot, None);
        assert_eq!(items[2].median_days_to_first_slot, Some(1.5));
    }

    #[test]
    fn the_period_defaults_to_the_last_30_days() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let period = period(None, None, now).unwrap();
        assert_eq!(period.to, now);
        assert_eq!(period.from, now - Duration::days(30));
    }

    #[test]
    fn a_period_ending_before_it_starts_or_longer_than_366_days_is_refused() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert!(period(Some(now), Some(now), now).is_err());
        assert!(period(Some(now - Duration::days(367)), None, now).is_err());
        assert!(period(Some(now - Duration::days(366)), None, now).is_ok());
    }
}
