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
    for &expert in found.eligible {
        let firm = found.firm_ids[expert].as_str();
        let at = *position.entry(firm).or_insert_with(|| {
            shares.push(FirmShare {
                firm_id: firm.to_owned(),
                eligible_experts: 0,
                slots_offered: 0,
                first_slot_at: None,
            });
            shares.len() - 1
        });
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
