//! The settlement a firm files after the visit: the expert's report and fee note with the
//! assessed loss, or a repairer's invoice, each document a pre-uploaded PDF.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::text::Reference;
use super::{Invalid, Money, PartnerKind};

/// Invoice or credit note (the insurer's `F` / `N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SettlementType {
    /// Facture.
    Invoice,
    /// Note de crédit.
    CreditNote,
}

impl SettlementType {
    /// Wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invoice => "INVOICE",
            Self::CreditNote => "CREDIT_NOTE",
        }
    }
}

/// Net, VAT and gross of one bill, exact to the cent: `gross = net + vat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Amounts {
    /// Excluding tax (HT), euros with at most 2 decimals.
    #[schema(value_type = f64, minimum = 0, example = 200.00)]
    pub net: Money,
    /// Tax (TVA).
    #[schema(value_type = f64, minimum = 0, example = 34.50)]
    pub vat: Money,
    /// Including tax (TTC): exactly `net + vat`.
    #[schema(value_type = f64, minimum = 0, example = 234.50)]
    pub gross: Money,
}

impl Amounts {
    fn check(&self, pointer: &str) -> Result<(), Invalid> {
        if self.net.cents() + self.vat.cents() == self.gross.cents() {
            Ok(())
        } else {
            let expected = Money::from_cents(self.net.cents() + self.vat.cents())
                .map_or_else(|| "net + vat".to_owned(), |m| m.to_string());
            Err(Invalid::new(
                format!("{pointer}/gross"),
                format!("must equal net + vat ({expected})"),
            ))
        }
    }
}

/// The settlement request as sent: the fields of both kinds, of which the appointment's
/// kind decides which are required and which are refused.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettlementInput {
    /// Invoice or credit note.
    #[serde(rename = "type")]
    pub kind: SettlementType,
    /// The firm's reference of the bill; `(type, reference)` is unique per firm.
    #[schema(value_type = String, min_length = 1, max_length = 64, example = "MH-2026-0042")]
    pub reference: Reference,
    /// Date of the bill, `YYYY-MM-DD`, not in the future (Paris time).
    #[schema(value_type = String, format = Date, example = "2026-12-01")]
    pub date: NaiveDate,
    /// EXPERT: the fee note's amounts (honoraires).
    pub fees: Option<Amounts>,
    /// EXPERT: the assessed loss (préjudice).
    pub damage: Option<Amounts>,
    /// EXPERT: upload key of the fee note (a PDF).
    pub fee_note_key: Option<String>,
    /// EXPERT: upload key of the expertise report (a PDF).
    pub report_key: Option<String>,
    /// REN: the invoice's amounts.
    pub invoice: Option<Amounts>,
    /// REN: upload key of the invoice (a PDF).
    pub invoice_key: Option<String>,
}

/// What a document of a settlement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DocumentKind {
    /// The expertise report.
    Report,
    /// The fee note (mémoire d'honoraires).
    FeeNote,
    /// A repairer's invoice.
    Invoice,
}

impl DocumentKind {
    /// Wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Report => "REPORT",
            Self::FeeNote => "FEE_NOTE",
            Self::Invoice => "INVOICE",
        }
    }

    /// Parses the wire and database name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "REPORT" => Some(Self::Report),
            "FEE_NOTE" => Some(Self::FeeNote),
            "INVOICE" => Some(Self::Invoice),
            _ => None,
        }
    }

    /// Field of the request that names its upload.
    pub fn key_field(self) -> &'static str {
        match self {
            Self::Report => "reportKey",
            Self::FeeNote => "feeNoteKey",
            Self::Invoice => "invoiceKey",
        }
    }
}

/// A document of a settlement request and the upload key that holds it.
pub type DocumentKey = (DocumentKind, String);

/// The bills of a settlement, by the kind of partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "partnerKind")]
pub enum Bills {
    /// A loss adjuster: fee note and assessed loss.
    #[serde(rename = "EXPERT")]
    Expert {
        /// Fee note.
        fees: Amounts,
        /// Assessed loss.
        damage: Amounts,
    },
    /// A repairer: the invoice.
    #[serde(rename = "REN")]
    Repairer {
        /// Invoice.
        invoice: Amounts,
    },
}

/// A checked settlement request; its documents are named by upload keys not yet resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settlement {
    /// Invoice or credit note.
    #[serde(rename = "type")]
    pub kind: SettlementType,
    /// The firm's reference.
    pub reference: Reference,
    /// Date of the bill.
    pub date: NaiveDate,
    /// The amounts.
    #[serde(flatten)]
    pub bills: Bills,
}

impl SettlementInput {
    /// Checks the request for an appointment of `kind` on `today`; every broken rule is
    /// reported with its pointer. Returns the settlement and the upload key of each
    /// document.
    pub fn check(
        self,
        kind: PartnerKind,
        today: NaiveDate,
    ) -> Result<(Settlement, Vec<DocumentKey>), Vec<Invalid>> {
        let mut problems = Vec::new();
        if self.date > today {
            problems.push(Invalid::new("/date", "must not be in the future"));
        }
        let expert = kind == PartnerKind::Expert;
        let fields = [
            ("fees", self.fees.is_some(), expert),
            ("damage", self.damage.is_some(), expert),
            ("feeNoteKey", self.fee_note_key.is_some(), expert),
            ("reportKey", self.report_key.is_some(), expert),
            ("invoice", self.invoice.is_some(), !expert),
            ("invoiceKey", self.invoice_key.is_some(), !expert),
        ];
        for (field, present, wanted) in fields {
            if present != wanted {
                let detail = if wanted {
                    format!("is required for a {} settlement", kind_name(kind))
                } else {
                    format!("is not part of a {} settlement", kind_name(kind))
                };
                problems.push(Invalid::new(format!("/{field}"), detail));
            }
        }
        for (pointer, amounts) in [
            ("/fees", self.fees),
            ("/damage", self.damage),
            ("/invoice", self.invoice),
        ] {
            if let Some(Err(invalid)) = amounts.map(|a| a.check(pointer)) {
                problems.push(invalid);
            }
        }
        let Self {
            kind: settlement_type,
            reference,
            date,
            fees,
            damage,
            fee_note_key,
            report_key,
            invoice,
            invoice_key,
        } = self;
        let (bills, documents) =
            match (fees, damage, fee_note_key, report_key, invoice, invoice_key) {
                (Some(fees), Some(damage), Some(fee_note), Some(report), None, None)
                    if problems.is_empty() =>
                {
                    (
                        Bills::Expert { fees, damage },
                        vec![
                            (DocumentKind::FeeNote, fee_note),
                            (DocumentKind::Report, report),
                        ],
                    )
                }
                (None, None, None, None, Some(invoice), Some(key)) if problems.is_empty() => (
                    Bills::Repairer { invoice },
                    vec![(DocumentKind::Invoice, key)],
                ),
                _ => return Err(problems),
            };
        let settlement = Settlement {
            kind: settlement_type,
            reference,
            date,
            bills,
        };
        Ok((settlement, documents))
    }
}

fn kind_name(kind: PartnerKind) -> &'static str {
    match kind {
        PartnerKind::Expert => "EXPERT",
        PartnerKind::Ren => "REN",
    }
}
