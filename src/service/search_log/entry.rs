//! A search's log entry: the request without personal data, what was found, and each
//! firm's share of it.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;

use crate::domain::{
    ClaimType, Code, CountryCode, Department, ExpertiseType, InsuredType, Insurer, PartnerKind,
    PostalCode, Stake,
};
use crate::engine::Slot;
use crate::service::search::SlotSearchRequest;
use crate::store::{FirmShare, LoggedSearch};

/// The request as logged: the search body without its address lines, its coordinates
/// (they locate the dwelling as well as the address does) and its `process` (logged
/// beside it), with the department of the place.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LoggedRequest<'a> {
    partner_kind: PartnerKind,
    insurer: &'a Insurer,
    insured_type: InsuredType,
    claim_type: &'a ClaimType,
    expertise_type: ExpertiseType,
    #[serde(skip_serializing_if = "Option::is_none")]
    dwelling_type: Option<&'a Code>,
    stake: &'a Stake,
    #[serde(skip_serializing_if = "Option::is_none")]
    appointment_place: Option<LoggedPlace<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'a DateTime<FixedOffset>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<&'a DateTime<FixedOffset>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_slots: Option<u16>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LoggedPlace<'a> {
    address: LoggedAddress<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    department: Option<Department>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LoggedAddress<'a> {
    postal_code: &'a PostalCode,
    city: &'a str,
    country: &'a CountryCode,
}

/// What a search found, as its log entry needs it.
pub(in crate::service) struct Found<'a> {
    /// Directory indices of the eligible experts.
    pub eligible: &'a [usize],
    /// The slots offered, sorted by start.
    pub slots: &'a [Slot],
    /// Firm id of each directory index.
    pub firm_ids: &'a [String],
    /// The diagnostic code, when no slot was offered.
    pub diagnostic: Option<&'static str>,
}

/// The log entry of search `id`, run at `at`.
pub(in crate::service) fn logged_search(
    id: &str,
    at: DateTime<Utc>,
    request: &SlotSearchRequest,
    found: &Found<'_>,
) -> LoggedSearch {
    let place = request.appointment_place.as_ref().map(|place| {
        let address = &place.address;
        LoggedPlace {
            address: LoggedAddress {
                postal_code: address.postal_code(),
                city: address.city(),
                country: address.country(),
            },
            department: address.postal_code().department(),
        }
    });
    let department = place
        .as_ref()
        .and_then(|p| p.department.as_ref())
        .map(ToString::to_string);
    let logged = LoggedRequest {
        partner_kind: request.partner_kind,
        insurer: &request.insurer,
        insured_type: request.insured_type,
        claim_type: &request.claim_type,
        expertise_type: request.expertise_type,
        dwelling_type: request.dwelling_type.as_ref(),
        stake: &request.stake,
        appointment_place: place,
        from: request.from.as_ref(),
        to: request.to.as_ref(),
        max_slots: request.max_slots,
    };
    LoggedSearch {
        id: id.to_owned(),
        at,
        request: serde_json::to_string(&logged).unwrap_or_else(|_| "{}".to_owned()),
        process: request.process.as_ref().map(ToString::to_string),
        department,
        claim_type: request.claim_type.to_string(),
        eligible_experts: count(found.eligible.len()),
        slots_offered: count(found.slots.len()),
        first_slot_at: found.slots.first().map(|s| s.start),
        diagnostic: found.diagnostic.map(str::to_owned),
        firms: shares(found),
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One share per firm with an eligible expert, in the order of their first expert.
fn shares(found: &Found<'_>) -> Vec<FirmShare> {
    let mut shares: Vec<FirmShare> = Vec::new();
    let mut position: HashMap<&str, usize> = HashMap::new();
    // A firm's experts mostly follow each other in the directory: the firm of the previous
    // one spares most lookups.
    let mut previous: Option<(&str, usize)> = None;
    for &expert in found.eligible {
        let firm = found.firm_ids[expert].as_str();
        let at = match previous {
            Some((same, at)) if same == firm => at,
            _ => *position.entry(firm).or_insert_with(|| {
                shares.push(FirmShare {
                    firm_id: firm.to_owned(),
                    eligible_experts: 0,
                    slots_offered: 0,
                    first_slot_at: None,
                });
                shares.len() - 1
            }),
        };
        previous = Some((firm, at));
        shares[at].eligible_experts += 1;
    }
    for slot in found.slots {
        if let Some(&at) = position.get(found.firm_ids[slot.expert].as_str()) {
            let share = &mut shares[at];
            share.slots_offered += 1;
            share.first_slot_at = Some(
                share
                    .first_slot_at
                    .map_or(slot.start, |t| t.min(slot.start)),
            );
        }
    }
    shares
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::domain::appointment::Mode;

    fn request() -> SlotSearchRequest {
        serde_json::from_value(json!({
            "insurer": "AXA", "insuredType": "PARTICULIER", "claimType": "DDE",
            "expertiseType": "ESS", "stake": { "total": 4200.0 },
            "appointmentPlace": {
                "address": { "line1": "12 rue de la Paix", "line2": "Bâtiment B",
                             "postalCode": "20090", "city": "Ajaccio" },
                "geo": { "lat": 41.93, "lon": 8.74 }
            },
            "process": "M. Dupont, 06 12 34 56 78"
        }))
        .unwrap()
    }

    fn slot(expert: usize, hour: u32) -> Slot {
        let start = Utc.with_ymd_and_hms(2026, 12, 7, hour, 0, 0).unwrap();
        Slot {
            expert,
            start,
            end: start + chrono::Duration::hours(1),
            mode: Mode::OnSite,
            travel_minutes: 0,
        }
    }

    #[test]
    fn the_logged_request_keeps_the_postal_code_and_department_but_no_address_line() {
        let firm_ids = vec!["f1".to_owned()];
        let found = Found {
            eligible: &[],
            slots: &[],
            firm_ids: &firm_ids,
            diagnostic: Some("no-skill"),
        };
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let entry = logged_search("s1", at, &request(), &found);
        let logged: serde_json::Value = serde_json::from_str(&entry.request).unwrap();
        assert_eq!(
            logged["appointmentPlace"],
            json!({ "address": { "postalCode": "20090", "city": "Ajaccio", "country": "FR" },
                    "department": "2A" })
        );
        assert!(logged.get("process").is_none());
        assert!(!entry.request.contains("rue") && !entry.request.contains("41.93"));
        assert_eq!(entry.process.as_deref(), Some("M. Dupont, 06 12 34 56 78"));
        assert_eq!(entry.department.as_deref(), Some("2A"));
        assert_eq!(entry.diagnostic.as_deref(), Some("no-skill"));
        assert!(entry.firms.is_empty());
    }

    #[test]
    fn each_eligible_firm_gets_its_experts_its_slots_and_its_first_slot() {
        let firm_ids: Vec<String> = ["f1", "f2", "f1", "f3"].map(str::to_owned).into();
        let slots = [slot(1, 8), slot(2, 9), slot(0, 10), slot(1, 11)];
        let found = Found {
            eligible: &[0, 1, 2, 3],
            slots: &slots,
            firm_ids: &firm_ids,
            diagnostic: None,
        };
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let entry = logged_search("s1", at, &request(), &found);
        assert_eq!((entry.eligible_experts, entry.slots_offered), (4, 4));
        assert_eq!(entry.first_slot_at, Some(slots[0].start));
        let shares: Vec<_> = entry
            .firms
            .iter()
            .map(|s| {
                (
                    s.firm_id.as_str(),
                    s.eligible_experts,
                    s.slots_offered,
                    s.first_slot_at,
                )
            })
            .collect();
        assert_eq!(
            shares,
            [
                ("f1", 2, 2, Some(slots[1].start)),
                ("f2", 1, 2, Some(slots[0].start)),
                ("f3", 1, 0, None),
            ]
        );
    }
}
