//! The claim dossier Claims IA hands over after booking (Etape 3).
//!
//! Types hold the field rules (codes, amounts, texts, URLs); [`Dossier::check`] holds the
//! rules spanning fields: dates in order and not in the future, the stake split within the
//! total, bounded and duplicate-free lists.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::text::{Email, FileName, FreeText, Link, MediaType, Name, Phone, Reference};
use super::{
    Address, ClaimType, Code, ExpertiseType, InsuredType, Insurer, Invalid, Money, Place, Stake,
};

/// Caps on list sizes, so one dossier stays small.
pub mod limits {
    /// Damage lines per list.
    pub const DAMAGES: usize = 200;
    /// Attachments per dossier.
    pub const ATTACHMENTS: usize = 50;
}

/// The insurance contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Contract {
    /// Product name, e.g. `MRH Confort`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Name>,
    /// Contract number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<Reference>,
}

/// One damaged item or part of the building.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Damage {
    /// What is damaged, e.g. `Plafond cuisine`.
    pub description: FreeText,
    /// Estimated cost in euros, when costed (`null` otherwise).
    #[serde(default)]
    pub amount: Option<Money>,
}

/// A document to fetch: Créneau downloads it in the background.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttachmentLink {
    /// Where to download it (`https`, or a host the operator allowed).
    pub url: Link,
    /// File name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<FileName>,
    /// Media type announced by Claims IA (the stored type is read from the bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<MediaType>,
}

/// The insured person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Insured {
    /// Family name (or company name for a `PRO`).
    pub last_name: Name,
    /// Given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<Name>,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
}

/// Who lets the expert in, when not the insured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppointmentContact {
    /// Name, e.g. `M. Durand`.
    pub name: Name,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    /// Relation to the insured, e.g. `gardien`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<Name>,
}

/// Connection data of a remote assessment (EAD).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoteSession {
    /// Where to join.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Link>,
    /// Login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<Name>,
    /// Access code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_code: Option<Name>,
}

/// The full dossier of a claim, as Claims IA sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Dossier {
    /// Insurer code, e.g. `AXA`.
    pub insurer: Insurer,
    /// Insurance contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<Contract>,
    /// Claims IA reference: must be the appointment's.
    pub claims_ia_ref: Reference,
    /// Insurer's claim reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_ref: Option<Reference>,
    /// `CPO`, `LOC`, `PNO`…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insured_capacity: Option<Code>,
    /// `PARTICULIER` or `PRO`.
    pub insured_type: InsuredType,
    /// Address of the insured risk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_address: Option<Address>,
    /// Claim type code (`DDE`, `DE`, `CATNAT`, `VOL`…).
    pub claim_type: ClaimType,
    /// `VISIO`, `EAD`, `ESS` or `CONTRADICTOIRE`.
    pub expertise_type: ExpertiseType,
    /// Day of the loss (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_date: Option<NaiveDate>,
    /// Day the loss was declared, not before `claimDate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declaration_date: Option<NaiveDate>,
    /// Dwelling type code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dwelling_type: Option<Code>,
    /// Amounts at stake; `movable` plus `immovable` may not exceed `total`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stake: Option<Stake>,
    /// Where the appointment takes place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment_place: Option<Place>,
    /// Damage to the building (at most 200 lines).
    #[serde(default)]
    pub immovable_damages: Vec<Damage>,
    /// Damage to contents (at most 200 lines).
    #[serde(default)]
    pub movable_damages: Vec<Damage>,
    /// Documents to fetch (at most 50, each URL once).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentLink>,
    /// The insured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insured: Option<Insured>,
    /// Who to call to get in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment_contact: Option<AppointmentContact>,
    /// Free text about the process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<FreeText>,
    /// Remote assessment connection data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_session: Option<RemoteSession>,
}

impl Dossier {
    /// Checks the rules spanning fields. `today` is the current date where the claim is
    /// (a date one day ahead is tolerated for time zones).
    pub fn check(&self, today: NaiveDate) -> Result<(), Invalid> {
        let latest = today.succ_opt().unwrap_or(today);
        for (date, pointer) in [
            (self.claim_date, "/claimDate"),
            (self.declaration_date, "/declarationDate"),
        ] {
            if date.is_some_and(|d| d > latest) {
                return Err(Invalid::new(pointer, "must not be in the future"));
            }
        }
        if let (Some(claim), Some(declared)) = (self.claim_date, self.declaration_date) {
            if declared < claim {
                return Err(Invalid::new(
                    "/declarationDate",
                    "must not be before claimDate",
                ));
            }
        }
        if let Some(stake) = self.stake {
            let parts =
                stake.movable.map_or(0, Money::cents) + stake.immovable.map_or(0, Money::cents);
            if parts > stake.total.cents() {
                return Err(Invalid::new(
                    "/stake/total",
                    "must be at least movable plus immovable",
                ));
            }
        }
        for (list, pointer) in [
            (&self.immovable_damages, "/immovableDamages"),
            (&self.movable_damages, "/movableDamages"),
        ] {
            if list.len() > limits::DAMAGES {
                return Err(Invalid::new(
                    pointer,
                    format!("at most {} entries", limits::DAMAGES),
                ));
            }
        }
        if self.attachments.len() > limits::ATTACHMENTS {
            return Err(Invalid::new(
                "/attachments",
                format!("at most {} entries", limits::ATTACHMENTS),
            ));
        }
        for (i, link) in self.attachments.iter().enumerate() {
            if self.attachments[..i].iter().any(|l| l.url == link.url) {
                return Err(Invalid::new(
                    format!("/attachments/{i}/url"),
                    "appears twice in the dossier",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn minimal() -> Value {
        json!({
            "insurer": "AXA", "claimsIaRef": "CIA-1", "insuredType": "PARTICULIER",
            "claimType": "DDE", "expertiseType": "ESS"
        })
    }

    fn with(patch: &Value) -> Value {
        let mut body = minimal();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()
    }

    fn check(body: Value) -> Result<(), String> {
        let dossier: Dossier = serde_json::from_value(body).map_err(|e| e.to_string())?;
        dossier
            .check(today())
            .map_err(|e| format!("{} {}", e.pointer, e.detail))
    }

    #[test]
    fn the_contract_example_is_accepted_and_round_trips() {
        let body = json!({
            "insurer": "AXA",
            "contract": { "name": "MRH Confort", "number": "CTR-123" },
            "claimsIaRef": "CIA-2026-000123", "claimRef": "SIN-998877",
            "insuredCapacity": "LOC", "insuredType": "PARTICULIER",
            "riskAddress": { "line1": "1 rue X", "postalCode": "75002", "city": "Paris", "country": "FR" },
            "claimType": "DDE", "expertiseType": "ESS",
            "claimDate": "2026-11-02", "declarationDate": "2026-11-03",
            "dwellingType": "APPARTEMENT",
            "stake": { "total": 4200.00, "movable": 1200.00, "immovable": 3000.00 },
            "appointmentPlace": { "address": { "line1": "1 rue X", "postalCode": "75002", "city": "Paris" },
                                  "geo": { "lat": 48.87, "lon": 2.34 } },
            "immovableDamages": [ { "description": "Plafond cuisine", "amount": 1800.00 } ],
            "movableDamages": [ { "description": "Canapé", "amount": null } ],
            "attachments": [ { "url": "https://docs.example/photo1.jpg", "name": "photo1.jpg", "mediaType": "image/jpeg" } ],
            "insured": { "lastName": "Dupont", "firstName": "Anne", "phone": "06 12 34 56 78", "email": "anne@example.fr" },
            "appointmentContact": { "name": "M. Durand", "phone": "0102030405", "relation": "gardien" },
            "process": "free text",
            "remoteSession": { "url": "https://visio.example/r/1", "login": "anne", "accessCode": "1234" }
        });
        let dossier: Dossier = serde_json::from_value(body).unwrap();
        dossier.check(today()).unwrap();
        let again: Dossier =
            serde_json::from_value(serde_json::to_value(&dossier).unwrap()).unwrap();
        assert_eq!(again, dossier);
    }

    #[test]
    fn cross_field_rules_name_the_offending_field() {
        assert_eq!(
            check(with(
                &json!({"claimDate": "2026-11-05", "declarationDate": "2026-11-04"})
            )),
            Err("/declarationDate must not be before claimDate".into())
        );
        assert_eq!(
            check(with(&json!({"claimDate": "2026-12-01"}))),
            Err("/claimDate must not be in the future".into())
        );
        assert!(check(with(&json!({"claimDate": "2026-11-21"}))).is_ok());
        assert_eq!(
            check(with(
                &json!({"stake": {"total": 100, "movable": 60, "immovable": 50}})
            )),
            Err("/stake/total must be at least movable plus immovable".into())
        );
        let twice = json!({"attachments": [{"url": "https://a.example/x"}, {"url": "https://a.example/x"}]});
        assert_eq!(
            check(with(&twice)),
            Err("/attachments/1/url appears twice in the dossier".into())
        );
        let many: Vec<Value> = (0..=limits::ATTACHMENTS)
            .map(|i| json!({"url": format!("https://a.example/{i}")}))
            .collect();
        assert_eq!(
            check(with(&json!({ "attachments": many }))),
            Err("/attachments at most 50 entries".into())
        );
    }

    #[test]
    fn field_types_refuse_bad_values() {
        for bad in [
            json!({"claimDate": "02/11/2026"}),
            json!({"stake": {"total": -1}}),
            json!({"stake": {"total": 1.234}}),
            json!({"insuredType": "OTHER"}),
            json!({"claimType": "dde"}),
            json!({"attachments": [{"url": "not a url"}]}),
            json!({"attachments": [{"url": "https://a.example/x", "name": "../etc/passwd"}]}),
            json!({"attachments": [{"url": "https://a.example/x", "mediaType": "jpeg"}]}),
            json!({"unknownField": 1}),
        ] {
            assert!(check(with(&bad)).is_err(), "{bad} was accepted");
        }
    }
}
