//! RFC 5545 rendering of an expert's calendar: one VEVENT per appointment (UID stable per
//! appointment, SEQUENCE = version, STATUS CANCELLED once cancelled) and per absence.
//! Times are UTC (`…Z`); the `icalendar` crate escapes TEXT values, ends lines with CRLF
//! and folds them at 75 octets.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component as _, Event, EventLike as _, EventStatus, Property};

use crate::domain::appointment::AppointmentStatus;
use crate::store::{Absence, Appointment};

/// Free text with every line break as `\n`: icalendar escapes `\n` but would leave a `\r`
/// raw inside the content line.
fn plain(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

fn appointment_event(a: &Appointment, now: DateTime<Utc>) -> Event {
    let mut event = Event::new();
    event
        .uid(&format!("{}@creneau", a.id))
        .timestamp(now)
        .starts(a.start)
        .ends(a.end)
        .sequence(u32::try_from(a.version - 1).unwrap_or(0))
        .last_modified(a.updated_at)
        .summary(&plain(&format!(
            "Expertise {} – {}",
            a.expertise_type.as_str(),
            a.claims_ia_ref
        )));
    if let Some(place) = &a.place {
        let address = &place.address;
        event.location(&plain(&format!(
            "{}, {} {}",
            address.line1(),
            address.postal_code(),
            address.city()
        )));
    }
    let mut description = String::new();
    if let Some(contact) = &a.contact {
        let _ = write!(description, "Contact: {}", contact.name);
        if let Some(phone) = &contact.phone {
            let _ = write!(description, " ({phone})");
        }
    }
    if let Some(comment) = &a.comment {
        let _ = write!(description, "\n{comment}");
    }
    if !description.trim().is_empty() {
        event.description(&plain(description.trim()));
    }
    event.status(match a.status {
        AppointmentStatus::Cancelled => EventStatus::Cancelled,
        AppointmentStatus::Confirmed | AppointmentStatus::Completed => EventStatus::Confirmed,
    });
    event
}

fn absence_event(a: &Absence, now: DateTime<Utc>) -> Event {
    let summary = a
        .reason
        .as_deref()
        .map_or_else(|| "Absence".to_owned(), |r| format!("Absence – {r}"));
    Event::new()
        .uid(&format!("{}@creneau", a.id))
        .timestamp(now)
        .starts(a.start)
        .ends(a.end)
        .summary(&plain(&summary))
        .add_property("TRANSP", "OPAQUE")
        .done()
}

/// The calendar of an expert named `name`.
pub fn calendar(
    name: &str,
    appointments: &[Appointment],
    absences: &[Absence],
    now: DateTime<Utc>,
) -> String {
    let mut calendar = Calendar::empty();
    for (key, value) in [
        ("VERSION", "2.0"),
        ("PRODID", "-//Creneau//Creneau//FR"),
        ("CALSCALE", "GREGORIAN"),
        ("METHOD", "PUBLISH"),
    ] {
        calendar.append_property(Property::new(key, value));
    }
    // icalendar escapes the properties it knows as TEXT; an X- property must say it is one.
    calendar.append_property(
        Property::new("X-WR-CALNAME", plain(name))
            .add_parameter("VALUE", "TEXT")
            .done(),
    );
    calendar.extend(appointments.iter().map(|a| appointment_event(a, now)));
    calendar.extend(absences.iter().map(|a| absence_event(a, now)));
    calendar.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn absence(reason: &str) -> Absence {
        let start = crate::clock::Clock::system().now();
        Absence {
            id: "abs-1".into(),
            expert_id: "exp-1".into(),
            start,
            end: start + chrono::Duration::hours(1),
            reason: Some(reason.into()),
            created_at: start,
        }
    }

    /// The logical content lines of `ics` (folds undone).
    fn unfolded(ics: &str) -> Vec<String> {
        ics.replace("\r\n ", "")
            .split("\r\n")
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn text_values_are_escaped_and_line_breaks_become_backslash_n() {
        let ics = calendar(
            "Martin, J.",
            &[],
            &[absence("a,b;c\\d\r\ne\rf")],
            crate::clock::Clock::system().now(),
        );
        let lines = unfolded(&ics);
        assert!(lines.contains(&"SUMMARY:Absence – a\\,b\\;c\\\\d\\ne\\nf".to_owned()));
        assert!(lines.contains(&"X-WR-CALNAME;VALUE=TEXT:Martin\\, J.".to_owned()));
        assert!(!ics.replace("\r\n", "").contains('\r'));
    }

    #[test]
    fn long_lines_are_folded_at_75_octets_without_splitting_characters() {
        let reason = "é".repeat(60);
        let ics = calendar(
            "J. Martin",
            &[],
            &[absence(&reason)],
            crate::clock::Clock::system().now(),
        );
        for physical in ics.split("\r\n") {
            assert!(physical.len() <= 75, "{} octets", physical.len());
        }
        assert!(unfolded(&ics).contains(&format!("SUMMARY:Absence – {reason}")));
    }

    #[test]
    fn an_empty_calendar_is_still_a_calendar() {
        let ics = calendar("J. Martin", &[], &[], crate::clock::Clock::system().now());
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
    }
}
