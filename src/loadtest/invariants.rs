//! End-of-run checks through the firm's admin API: no two CONFIRMED appointments of one
//! expert overlap, and every booking the run saw succeed is there, at the time and in the
//! status the run last saw.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;

use super::admin::Admin;
use serde_json::{Value, json};

/// Failures listed in the report; the rest are only counted.
const SHOWN: usize = 20;

/// What the run expects of a booking it made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// CONFIRMED at the last time seen.
    Confirmed,
    /// CANCELLED by the run.
    Cancelled,
    /// A cancellation got no answer: either status is right.
    CancelledOrConfirmed,
    /// A reschedule got no answer: CONFIRMED, at the old or the new time.
    ConfirmedSomewhen,
}

/// A booking that got a 201.
#[derive(Debug, Clone)]
pub struct Tracked {
    /// Appointment id.
    pub id: String,
    /// Expert of the last answer.
    pub expert_id: String,
    /// Start of the last answer.
    pub start: DateTime<FixedOffset>,
    /// End of the last answer.
    pub end: DateTime<FixedOffset>,
    /// Expected state.
    pub expect: Expect,
}

/// The outcome of the checks.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    /// Appointments of the firm, all statuses.
    pub appointments: usize,
    /// Of which CONFIRMED.
    pub confirmed: usize,
    /// Bookings of the run checked (with an expert of the firm).
    pub tracked: usize,
    /// Of which with an uncertain last change (no answer to a cancel or reschedule).
    pub uncertain: usize,
    /// What failed (empty: all held).
    pub failures: Vec<String>,
}

impl Verdict {
    /// Whether every invariant held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    pub(super) fn to_json(&self) -> Value {
        json!({
            "passed": self.passed(),
            "appointments": self.appointments,
            "confirmed": self.confirmed,
            "trackedBookings": self.tracked,
            "uncertain": self.uncertain,
            "failures": self.failures,
        })
    }

    pub(super) fn to_text(&self) -> String {
        let mut text = format!(
            "invariants: {} ({} appointments, {} CONFIRMED; {} bookings of this run checked, {} uncertain)\n",
            if self.passed() { "PASSED" } else { "FAILED" },
            self.appointments,
            self.confirmed,
            self.tracked,
            self.uncertain,
        );
        for failure in self.failures.iter().take(SHOWN) {
            let _ = writeln!(text, "  - {failure}");
        }
        if self.failures.len() > SHOWN {
            let _ = writeln!(text, "  ... and {} more", self.failures.len() - SHOWN);
        }
        text
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Listed {
    appointment_id: String,
    status: String,
    start: DateTime<FixedOffset>,
    end: DateTime<FixedOffset>,
    expert: Ref,
}

#[derive(Debug, Deserialize)]
struct Ref {
    id: String,
}

/// Runs the checks; an `Err` means they could not run at all.
pub async fn check(
    http: &reqwest::Client,
    targets: &[String],
    (client_id, secret): (&str, &str),
    tracked: &[Tracked],
) -> anyhow::Result<Verdict> {
    let admin = Admin::sign_in(http, targets, client_id, secret).await?;
    let experts: HashSet<String> = admin
        .all::<Ref>("/admin/v1/experts")
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let confirmed: Vec<Listed> = admin.all("/admin/v1/appointments?status=CONFIRMED").await?;
    let all: Vec<Listed> = admin.all("/admin/v1/appointments").await?;
    let mut verdict = Verdict {
        appointments: all.len(),
        confirmed: confirmed.len(),
        ..Verdict::default()
    };
    verdict.failures.extend(overlaps(&confirmed));
    let by_id: HashMap<&str, &Listed> =
        all.iter().map(|a| (a.appointment_id.as_str(), a)).collect();
    for booking in tracked.iter().filter(|b| experts.contains(&b.expert_id)) {
        verdict.tracked += 1;
        if matches!(
            booking.expect,
            Expect::CancelledOrConfirmed | Expect::ConfirmedSomewhen
        ) {
            verdict.uncertain += 1;
        }
        match by_id.get(booking.id.as_str()) {
            None => verdict
                .failures
                .push(format!("booked appointment {} is missing", booking.id)),
            Some(found) => verdict.failures.extend(mismatch(booking, found)),
        }
    }
    Ok(verdict)
}

/// Pairs of CONFIRMED appointments of one expert that overlap.
fn overlaps(confirmed: &[Listed]) -> Vec<String> {
    let mut by_expert: HashMap<&str, Vec<&Listed>> = HashMap::new();
    for appointment in confirmed.iter().filter(|a| a.status == "CONFIRMED") {
        by_expert
            .entry(&appointment.expert.id)
            .or_default()
            .push(appointment);
    }
    let mut failures = Vec::new();
    for (expert, mut list) in by_expert {
        list.sort_by_key(|a| a.start);
        let mut latest: Option<&Listed> = None;
        for appointment in list {
            if let Some(previous) = latest.filter(|p| p.end > appointment.start) {
                failures.push(format!(
                    "expert {expert}: CONFIRMED {} ({}–{}) overlaps {} ({}–{})",
                    previous.appointment_id,
                    previous.start,
                    previous.end,
                    appointment.appointment_id,
                    appointment.start,
                    appointment.end,
                ));
            }
            if latest.is_none_or(|p| appointment.end > p.end) {
                latest = Some(appointment);
            }
        }
    }
    failures
}

/// How a stored appointment differs from what the run last saw.
fn mismatch(booking: &Tracked, found: &Listed) -> Option<String> {
    let same_time = found.start == booking.start && found.end == booking.end;
    let ok = match booking.expect {
        Expect::Confirmed => found.status == "CONFIRMED" && same_time,
        Expect::Cancelled => found.status == "CANCELLED" && same_time,
        Expect::CancelledOrConfirmed => {
            (found.status == "CONFIRMED" || found.status == "CANCELLED") && same_time
        }
        Expect::ConfirmedSomewhen => found.status == "CONFIRMED",
    };
    (!ok).then(|| {
        format!(
            "appointment {}: expected {:?} {}–{}, found {} {}–{}",
            booking.id,
            booking.expect,
            booking.start,
            booking.end,
            found.status,
            found.start,
            found.end
        )
    })
}

#[cfg(test)]
mod tests;
