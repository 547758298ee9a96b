//! A group's statements, and the rows they carry as JSON.

use serde::Serialize;
use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;

use super::super::to_json;
use crate::store::{Appointment, IdempotencyRecord, StoreResult};

/// A value of a statement.
pub(super) enum Arg {
    Text(String),
    Int(i64),
}

/// A statement: SQL with `$1`… placeholders, and their values.
pub(super) struct Statement {
    pub sql: String,
    pub args: Vec<Arg>,
}

impl Statement {
    /// Runs it on its own (a prepared statement); its rows.
    pub async fn fetch(&self, conn: &mut sqlx::AnyConnection) -> Result<Vec<AnyRow>, sqlx::Error> {
        let mut query = sqlx::query(AssertSqlSafe(self.sql.as_str()));
        for arg in &self.args {
            query = match arg {
                Arg::Text(text) => query.bind(text.as_str()),
                Arg::Int(n) => query.bind(*n),
            };
        }
        query.fetch_all(conn).await
    }
}

/// An idempotency key and the answer it records, as the group's key statements read it.
#[derive(Serialize)]
pub(super) struct KeyRow<'a> {
    client: &'a str,
    key: &'a str,
    hash: &'a str,
    status: u16,
    response: &'a str,
}

impl<'a> KeyRow<'a> {
    pub fn of(record: &'a IdempotencyRecord, request_hash: &'a str) -> Self {
        Self {
            client: &record.client_id,
            key: &record.key,
            hash: request_hash,
            status: record.status,
            response: &record.response,
        }
    }
}

/// An appointment as the group insert reads it.
#[derive(Serialize)]
pub(super) struct AppointmentRow<'a> {
    id: &'a str,
    firm_id: &'a str,
    expert_id: &'a str,
    client_id: &'a str,
    status: &'static str,
    version: i64,
    start_at: i64,
    end_at: i64,
    mode: &'static str,
    expertise_type: &'static str,
    place: Option<String>,
    claims_ia_ref: &'a str,
    claim_ref: Option<&'a str>,
    contact: Option<String>,
    comment: Option<&'a str>,
    cancellation: Option<String>,
    created_at: i64,
    updated_at: i64,
    search_id: Option<&'a str>,
    lat: Option<f64>,
    lon: Option<f64>,
}

impl<'a> AppointmentRow<'a> {
    pub fn of(a: &'a Appointment) -> StoreResult<Self> {
        let geo = a.place.as_ref().and_then(|p| p.geo);
        Ok(Self {
            id: &a.id,
            firm_id: &a.firm_id,
            expert_id: &a.expert_id,
            client_id: &a.client_id,
            status: a.status.as_str(),
            version: a.version,
            start_at: a.start.timestamp_millis(),
            end_at: a.end.timestamp_millis(),
            mode: a.mode.as_str(),
            expertise_type: a.expertise_type.as_str(),
            place: a.place.as_ref().map(to_json).transpose()?,
            claims_ia_ref: &a.claims_ia_ref,
            claim_ref: a.claim_ref.as_deref(),
            contact: a.contact.as_ref().map(to_json).transpose()?,
            comment: a.comment.as_deref(),
            cancellation: a.cancellation.as_ref().map(to_json).transpose()?,
            created_at: a.created_at.timestamp_millis(),
            updated_at: a.updated_at.timestamp_millis(),
            search_id: a.search_id.as_deref(),
            lat: geo.map(|g| g.lat()),
            lon: geo.map(|g| g.lon()),
        })
    }
}
