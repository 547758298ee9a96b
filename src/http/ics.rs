//! RFC 5545 rendering of an expert's calendar: one VEVENT per appointment (UID stable per
//! appointment, SEQUENCE = version, STATUS CANCELLED once cancelled) and per absence.
//! Times are UTC (`…Z`), lines end with CRLF and are folded at 75 octets.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::domain::appointment::AppointmentStatus;
use crate::store::{Absence, Appointment};

/// Escapes a TEXT value (RFC 5545 §3.3.11).
fn text(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace("\r\n", "\\n")
        .replace('\n', "\\n")
}

fn utc(instant: DateTime<Utc>) -> String {
    instant.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Appends one content line, folded so that no line exceeds 75 octets (§3.1).
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for ch in content.chars() {
        let len = ch.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(ch);
        width += len;
    }
    out.push_str("\r\n");
}

fn appointment_event(out: &mut String, a: &Appointment, stamp: &str) {
    line(out, "BEGIN:VEVENT");
    line(out, &format!("UID:{}@creneau", a.id));
    line(out, &format!("DTSTAMP:{stamp}"));
    line(out, &format!("DTSTART:{}", utc(a.start)));
    line(out, &format!("DTEND:{}", utc(a.end)));
    line(out, &format!("SEQUENCE:{}", a.version - 1));
    line(out, &format!("LAST-MODIFIED:{}", utc(a.updated_at)));
    let summary = format!(
        "Expertise {} – {}",
        a.expertise_type.as_str(),
        a.claims_ia_ref
    );
    line(out, &format!("SUMMARY:{}", text(&summary)));
    if let Some(place) = &a.place {
        let address = &place.address;
        let location = format!(
            "{}, {} {}",
            address.line1(),
            address.postal_code(),
            address.city()
        );
        line(out, &format!("LOCATION:{}", text(&location)));
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
    if !description.is_empty() {
        line(out, &format!("DESCRIPTION:{}", text(description.trim())));
    }
    let status = match a.status {
        AppointmentStatus::Cancelled => "CANCELLED",
        AppointmentStatus::Confirmed | AppointmentStatus::Completed => "CONFIRMED",
    };
    line(out, &format!("STATUS:{status}"));
    line(out, "END:VEVENT");
}

fn absence_event(out: &mut String, a: &Absence, stamp: &str) {
    line(out, "BEGIN:VEVENT");
    line(out, &format!("UID:{}@creneau", a.id));
    line(out, &format!("DTSTAMP:{stamp}"));
    line(out, &format!("DTSTART:{}", utc(a.start)));
    line(out, &format!("DTEND:{}", utc(a.end)));
    let summary = a
        .reason
        .as_deref()
        .map_or_else(|| "Absence".to_owned(), |r| format!("Absence – {r}"));
    line(out, &format!("SUMMARY:{}", text(&summary)));
    line(out, "TRANSP:OPAQUE");
    line(out, "END:VEVENT");
}

/// The calendar of an expert named `name`.
pub fn calendar(
    name: &str,
    appointments: &[Appointment],
    absences: &[Absence],
    now: DateTime<Utc>,
) -> String {
    let stamp = utc(now);
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//Creneau//Creneau//FR");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", text(name)));
    for appointment in appointments {
        appointment_event(&mut out, appointment, &stamp);
    }
    for absence in absences {
        absence_event(&mut out, absence, &stamp);
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_values_are_escaped() {
        assert_eq!(text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }

    #[test]
    fn long_lines_are_folded_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        line(&mut out, &format!("SUMMARY:{}", "é".repeat(60)));
        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(physical.len() <= 75, "{} octets", physical.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("SUMMARY:{}\r\n", "é".repeat(60)));
    }

    #[test]
    fn an_empty_calendar_is_still_a_calendar() {
        let ics = calendar("J. Martin", &[], &[], crate::clock::Clock::system().now());
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
    }
}
