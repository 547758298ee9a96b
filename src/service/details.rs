//! Changing the details Claims IA owns on its appointments (contact, comment, claim
//! reference) by JSON merge patch (RFC 7386).

use serde_json::{Map, Value};

use super::{Error, Result, Service};
use crate::domain::Invalid;
use crate::domain::appointment::Contact;
use crate::domain::text::{FreeText, Reference};
use crate::store::{Appointment, Constraint, StoreError};

/// How often a patch without a version is merged again over a concurrent change.
const MERGE_ATTEMPTS: usize = 3;

/// New values of the editable details after a merge patch.
struct Details {
    claim_ref: Option<String>,
    contact: Option<Contact>,
    comment: Option<String>,
}

impl Service {
    /// Applies `patch` to a client's appointment; with `expected`, only to that version
    /// (otherwise a conflicting change is merged over, a few times at most).
    pub async fn patch_details(
        &self,
        client_id: &str,
        id: &str,
        expected: Option<i64>,
        patch: &Map<String, Value>,
    ) -> Result<Appointment> {
        for _ in 0..MERGE_ATTEMPTS {
            let current = self.store.client_appointment(client_id, id).await?;
            // The patch is checked before the precondition: an invalid one is refused as such.
            let details = merge_details(&current, patch)?;
            if expected.is_some_and(|v| v != current.version) {
                return Err(StoreError::Conflict {
                    constraint: Constraint::Version,
                }
                .into());
            }
            let edit = move |a: &mut Appointment| {
                a.claim_ref.clone_from(&details.claim_ref);
                a.contact.clone_from(&details.contact);
                a.comment.clone_from(&details.comment);
            };
            match self
                .store
                .update_details(client_id, id, Some(current.version), &edit)
                .await
            {
                Ok(appointment) => return Ok(appointment),
                Err(StoreError::Conflict {
                    constraint: Constraint::Version,
                }) if expected.is_none() => {}
                Err(err) => return Err(err.into()),
            }
        }
        Err(StoreError::Conflict {
            constraint: Constraint::Version,
        }
        .into())
    }
}

/// A string or `null` at `pointer`.
fn text(value: &Value, pointer: &str) -> Result<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text.clone())),
        _ => Err(Error::invalid(pointer, "must be a string or null")),
    }
}

fn merge_details(current: &Appointment, patch: &Map<String, Value>) -> Result<Details> {
    let mut details = Details {
        claim_ref: current.claim_ref.clone(),
        contact: current.contact.clone(),
        comment: current.comment.clone(),
    };
    for (field, value) in patch {
        let pointer = format!("/{field}");
        let invalid = |e: &dyn std::fmt::Display| Error::invalid(&pointer, e.to_string());
        match field.as_str() {
            "claimRef" => {
                details.claim_ref = text(value, &pointer)?
                    .map(|r| Reference::parse(&r).map(String::from))
                    .transpose()
                    .map_err(|e| invalid(&e))?;
            }
            "comment" => {
                details.comment = text(value, &pointer)?
                    .map(|c| FreeText::parse(&c).map(String::from))
                    .transpose()
                    .map_err(|e| invalid(&e))?;
            }
            "contact" => details.contact = merge_contact(details.contact.as_ref(), value)?,
            _ => {
                return Err(Error::invalid(
                    &pointer,
                    "only contact, comment and claimRef can change",
                ));
            }
        }
    }
    Ok(details)
}

/// The contact after merging `value` (an object of changes, or `null` to remove it).
fn merge_contact(current: Option<&Contact>, value: &Value) -> Result<Option<Contact>> {
    let changes = match value {
        Value::Null => return Ok(None),
        Value::Object(changes) => changes,
        _ => return Err(Error::invalid("/contact", "must be an object or null")),
    };
    let mut merged = match current {
        Some(contact) => serde_json::to_value(contact).map_err(anyhow::Error::from)?,
        None => Value::Object(Map::new()),
    };
    if let Some(merged) = merged.as_object_mut() {
        for (k, v) in changes {
            if v.is_null() {
                merged.remove(k);
            } else {
                merged.insert(k.clone(), v.clone());
            }
        }
    }
    crate::domain::from_json::<Contact>(merged)
        .map(Some)
        .map_err(|e| Invalid::new(format!("/contact{}", e.pointer), e.detail).into())
}
