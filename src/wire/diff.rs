//! What changed between two JSON documents, as RFC 6901 JSON Pointers with the values
//! before and after: the firm's "changes since validation".

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::store::Appointment;

/// One changed value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Change {
    /// Where (RFC 6901), e.g. `/start` or `/dossier/stake/total`.
    pub pointer: String,
    /// The value before (`null`: absent).
    #[schema(value_type = Object)]
    pub before: Value,
    /// The value after (`null`: removed).
    #[schema(value_type = Object)]
    pub after: Value,
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Every value that differs between `before` and `after` under `prefix`; objects are
/// compared key by key, arrays index by index, anything else as a whole.
pub fn diff(prefix: &str, before: &Value, after: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    walk(prefix, before, after, &mut out);
    out
}

fn walk(pointer: &str, before: &Value, after: &Value, out: &mut Vec<Change>) {
    match (before, after) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let at = format!("{pointer}/{}", escape(key));
                walk(
                    &at,
                    a.get(key).unwrap_or(&Value::Null),
                    b.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                let at = format!("{pointer}/{i}");
                walk(
                    &at,
                    a.get(i).unwrap_or(&Value::Null),
                    b.get(i).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        _ if before == after => {}
        _ => out.push(Change {
            pointer: pointer.to_owned(),
            before: before.clone(),
            after: after.clone(),
        }),
    }
}

/// `appointment.booked` for the firm: its details, and the whole appointment as the one
/// change (from nothing).
pub fn booked_event(a: &Appointment) -> (Value, Vec<Change>) {
    let data = json!({
        "claimsIaRef": a.claims_ia_ref,
        "expertId": a.expert_id,
        "start": a.start,
        "end": a.end,
        "version": a.version,
    });
    let changes = vec![Change {
        pointer: String::new(),
        before: Value::Null,
        after: appointment_json(a),
    }];
    (data, changes)
}

/// What of an appointment the firm follows, named as in the appointment view.
pub fn appointment_json(a: &Appointment) -> Value {
    json!({
        "status": a.status,
        "start": a.start,
        "end": a.end,
        "expertId": a.expert_id,
        "mode": a.mode,
        "expertiseType": a.expertise_type,
        "appointmentPlace": a.place,
        "claimsIaRef": a.claims_ia_ref,
        "claimRef": a.claim_ref,
        "contact": a.contact,
        "comment": a.comment,
        "cancellation": a.cancellation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_changes_are_pointers_with_both_values() {
        let before = json!({ "contact": { "phone": "01", "name": "A" }, "list": [1, 2] });
        let after = json!({ "contact": { "phone": "02", "name": "A" }, "list": [1], "a/b": true });
        let changes = diff("", &before, &after);
        let pointers: Vec<_> = changes.iter().map(|c| c.pointer.as_str()).collect();
        assert_eq!(pointers, vec!["/a~1b", "/contact/phone", "/list/1"]);
        assert_eq!(changes[1].before, json!("01"));
        assert_eq!(changes[2].after, Value::Null);
        assert!(diff("/dossier", &after, &after).is_empty());
    }
}
