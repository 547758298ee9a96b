//! A settlement as both APIs read it back.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::settlement::{Amounts, Bills, DocumentKind, SettlementType};
use crate::store::StoredSettlement;

/// One document of a settlement.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettlementDocumentView {
    /// `REPORT`, `FEE_NOTE` or `INVOICE`.
    pub kind: DocumentKind,
    /// Where to read the PDF (same API as this read).
    pub href: String,
    /// Size in bytes.
    pub size: i64,
    /// SHA-256 of the bytes (the `ETag` of `href`).
    pub sha256: String,
}

/// A settlement filed by a firm.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettlementView {
    /// Server-owned id.
    pub settlement_id: String,
    /// Appointment it settles.
    pub appointment_id: String,
    /// `SUBMITTED`.
    pub status: &'static str,
    /// When it was filed.
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    /// Invoice or credit note.
    #[serde(rename = "type")]
    pub kind: SettlementType,
    /// The firm's reference.
    pub reference: String,
    /// Date of the bill.
    pub date: chrono::NaiveDate,
    /// EXPERT: the fee note's amounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fees: Option<Amounts>,
    /// EXPERT: the assessed loss.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damage: Option<Amounts>,
    /// REN: the invoice's amounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice: Option<Amounts>,
    /// EXPERT: upload key of the fee note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_note_key: Option<String>,
    /// EXPERT: upload key of the report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_key: Option<String>,
    /// REN: upload key of the invoice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_key: Option<String>,
    /// The PDFs.
    pub documents: Vec<SettlementDocumentView>,
}

impl SettlementView {
    /// The view of `stored`, its document links under `api` (`/v1` or `/admin/v1`).
    pub fn new(stored: StoredSettlement, api: &str) -> Self {
        let key = |kind: DocumentKind| {
            stored
                .documents
                .iter()
                .find(|d| d.kind == kind)
                .map(|d| d.upload_key.clone())
        };
        let (fees, damage, invoice) = match stored.settlement.bills {
            Bills::Expert { fees, damage } => (Some(fees), Some(damage), None),
            Bills::Repairer { invoice } => (None, None, Some(invoice)),
        };
        let base = format!(
            "{api}/appointments/{}/settlements/{}/documents",
            stored.appointment_id, stored.id
        );
        Self {
            fee_note_key: key(DocumentKind::FeeNote),
            report_key: key(DocumentKind::Report),
            invoice_key: key(DocumentKind::Invoice),
            documents: stored
                .documents
                .iter()
                .map(|d| SettlementDocumentView {
                    kind: d.kind,
                    href: format!("{base}/{}", d.kind.as_str()),
                    size: d.blob.size,
                    sha256: d.blob.sha256.clone(),
                })
                .collect(),
            settlement_id: stored.id,
            appointment_id: stored.appointment_id,
            status: stored.status,
            submitted_at: stored.submitted_at,
            kind: stored.settlement.kind,
            reference: stored.settlement.reference.to_string(),
            date: stored.settlement.date,
            fees,
            damage,
            invoice,
        }
    }
}

/// The settlements of an appointment.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettlementList {
    /// Oldest first.
    pub items: Vec<SettlementView>,
}

impl SettlementList {
    /// The views of `settlements`, their document links under `api`.
    pub fn new(settlements: Vec<StoredSettlement>, api: &str) -> Self {
        Self {
            items: settlements
                .into_iter()
                .map(|s| SettlementView::new(s, api))
                .collect(),
        }
    }
}
