//! One group transaction: its statements, its decisions.
//!
//! The statements come in two phases. The first locks the experts (in id order), claims
//! the fresh keys and reads the calendars; then every booking is decided here, in arrival
//! order; the second writes the accepted appointments and the refusals. Each statement is
//! prepared once per connection, so PostgreSQL plans it once: one multi-statement query
//! per phase, with the values written in as literals, would save round trips but have
//! every statement planned every time, which costs more.

use std::collections::{HashMap, HashSet};

use chrono::Duration;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::super::rows::{APPOINTMENT_COLUMNS, SCHEDULE_MARGIN_DAYS};
use super::super::spans::{self, Span};
use super::super::{expert_from_row, on_constraint, to_json};
use super::statement::{AppointmentRow, Arg, KeyRow, Statement};
use super::{Job, Verdict, Writer};
use crate::store::{Appointment, Busy, Expert, Schedule, StoreError, StoreResult};

/// A group transaction that failed, and whether its outcome is known.
pub(super) enum Failure {
    /// Rolled back: nothing of it was written.
    RolledBack(StoreError),
    /// The commit may or may not have happened.
    Uncertain(StoreError),
}

/// The first phase: what it returns, statement by statement.
struct Reads {
    experts: Vec<AnyRow>,
    claimed: Option<Vec<AnyRow>>,
    calendars: Vec<AnyRow>,
}

impl Writer {
    /// One verdict per job, in order.
    pub(super) async fn write(&self, jobs: &[Job]) -> Vec<Verdict> {
        let started = std::time::Instant::now();
        match self.try_write(jobs).await {
            Ok(verdicts) => {
                tracing::debug!(
                    bookings = jobs.len(),
                    elapsed_us = started.elapsed().as_micros(),
                    "booking group committed"
                );
                verdicts
            }
            Err(Failure::RolledBack(err)) => {
                tracing::debug!(
                    error = %err,
                    bookings = jobs.len(),
                    "booking group rolled back; each booking goes alone"
                );
                jobs.iter().map(|_| Verdict::Alone).collect()
            }
            Err(Failure::Uncertain(err)) => {
                tracing::error!(
                    error = %err,
                    bookings = jobs.len(),
                    "booking group commit failed; outcome unknown"
                );
                let what = format!("the booking transaction's commit failed: {err}");
                jobs.iter()
                    .map(|_| Verdict::Failed(super::uncertain(&what)))
                    .collect()
            }
        }
    }

    async fn try_write(&self, jobs: &[Job]) -> Result<Vec<Verdict>, Failure> {
        let mut verdicts: Vec<Option<Verdict>> = jobs.iter().map(|_| None).collect();
        // A key twice in one group (a retry racing its first attempt): the later one goes
        // alone, where the key's state decides.
        let mut keys = HashSet::new();
        for (job, verdict) in jobs.iter().zip(&mut verdicts) {
            if let Some(key) = &job.key
                && !keys.insert((&key.answer.client_id, &key.answer.key))
            {
                *verdict = Some(Verdict::Alone);
            }
        }
        let reads = self.reads(jobs, &verdicts).map_err(Failure::RolledBack)?;
        let begin = self.backend.dialect().begin_write;
        let rolled_back = |e: sqlx::Error| Failure::RolledBack(e.into());
        // Dropped before its commit (an error, or the task cancelled), it rolls back.
        let mut tx = self.pool.begin_with(begin).await.map_err(rolled_back)?;
        let mut results = Vec::with_capacity(reads.len());
        for statement in &reads {
            results.push(statement.fetch(&mut tx).await.map_err(rolled_back)?);
        }
        let decided = Self::decide(jobs, &mut verdicts, &split_reads(results))
            .map_err(Failure::RolledBack)?;
        for statement in self.writes(jobs, &decided).map_err(Failure::RolledBack)? {
            statement
                .fetch(&mut tx)
                .await
                .map_err(|e| Failure::RolledBack(on_constraint(e)))?;
        }
        tx.commit()
            .await
            .map_err(|e| Failure::Uncertain(e.into()))?;
        Ok(finished(verdicts))
    }

    /// The first phase: lock the experts of the undecided jobs in id order (reading their
    /// profiles), claim their fresh keys with their success answers, read their calendars
    /// over the span of their bookings widened by the margin a booking alone reads.
    fn reads(&self, jobs: &[Job], verdicts: &[Option<Verdict>]) -> StoreResult<Vec<Statement>> {
        let undecided: Vec<&Job> = undecided(jobs, verdicts).collect();
        let ids: HashSet<&str> = undecided
            .iter()
            .map(|job| job.appointment.expert_id.as_str())
            .collect();
        let dialect = self.backend.dialect();
        let (matching, lock) = (dialect.id_in_json, dialect.for_update);
        let mut statements = vec![Statement {
            sql: format!(
                "SELECT id, firm_id, profile, created_at, updated_at FROM experts
                 WHERE id {matching} ORDER BY id {lock}"
            ),
            args: vec![Arg::Text(to_json(&ids)?)],
        }];
        let claims: Vec<KeyRow<'_>> = undecided
            .iter()
            .filter_map(|job| job.key.as_ref())
            .map(|k| KeyRow::of(&k.answer, &k.request_hash))
            .collect();
        if !claims.is_empty() {
            let expired_before = undecided
                .iter()
                .filter_map(|job| job.key.as_ref().map(|k| k.expired_before_ms))
                .min()
                .unwrap_or(i64::MIN);
            statements.push(Statement {
                sql: self.write_keys(
                    "request_hash = excluded.request_hash, status = excluded.status,
                     response = excluded.response, created_at = excluded.created_at
                     WHERE idempotency_keys.created_at < $3 RETURNING client_id, key",
                ),
                args: vec![
                    Arg::Text(to_json(&claims)?),
                    Arg::Int(self.clock.now_ms()),
                    Arg::Int(expired_before),
                ],
            });
        }
        let margin = Duration::days(SCHEDULE_MARGIN_DAYS);
        let mut spans: HashMap<&str, (i64, i64)> = HashMap::new();
        for job in &undecided {
            let a = &job.appointment;
            let (from, to) = (
                (a.start - margin).timestamp_millis(),
                (a.end + margin).timestamp_millis(),
            );
            let span = spans.entry(&a.expert_id).or_insert((from, to));
            *span = (span.0.min(from), span.1.max(to));
        }
        let spans: Vec<Span<'_>> = spans
            .into_iter()
            .map(|(e, (f, t))| Span { e, f, t })
            .collect();
        statements.push(Statement {
            sql: spans::calendars_sql(self.backend, "$1"),
            args: vec![Arg::Text(to_json(&spans)?)],
        });
        Ok(statements)
    }

    /// Decides every undecided job from what the first phase read, in arrival order: a
    /// job sees the ones accepted before it. The indices of the accepted jobs, and of the
    /// refused ones.
    fn decide(
        jobs: &[Job],
        verdicts: &mut [Option<Verdict>],
        reads: &Reads,
    ) -> StoreResult<(Vec<usize>, Vec<usize>)> {
        if let Some(claimed) = &reads.claimed {
            let claimed = claimed
                .iter()
                .map(|row| Ok((row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?)))
                .collect::<StoreResult<HashSet<_>>>()?;
            for (job, verdict) in jobs.iter().zip(verdicts.iter_mut()) {
                if let (None, Some(k)) = (&verdict, &job.key)
                    && !claimed.contains(&(k.answer.client_id.clone(), k.answer.key.clone()))
                {
                    *verdict = Some(Verdict::KeyTaken);
                }
            }
        }
        let mut read = spans::read_calendars(&reads.calendars)?;
        let mut schedules: HashMap<String, Schedule> = reads
            .experts
            .iter()
            .map(|row| {
                let expert: Expert = expert_from_row(row)?;
                let (absences, appointments) = read.remove(&expert.id).unwrap_or_default();
                let schedule = Schedule {
                    expert,
                    absences,
                    appointments,
                };
                Ok((schedule.expert.id.clone(), schedule))
            })
            .collect::<StoreResult<_>>()?;
        let (mut accepted, mut refused) = (Vec::new(), Vec::new());
        for (i, (job, verdict)) in jobs.iter().zip(verdicts.iter_mut()).enumerate() {
            if verdict.is_some() {
                continue;
            }
            let a = &job.appointment;
            let schedule = schedules
                .get_mut(&a.expert_id)
                .filter(|s| s.expert.firm_id == a.firm_id);
            match schedule {
                Some(schedule) if free(schedule, a) && (job.recheck)(schedule) => {
                    let busy = Busy {
                        id: a.id.clone(),
                        start: a.start,
                        end: a.end,
                        place: a.place.as_ref().and_then(|p| p.geo),
                    };
                    let at = schedule
                        .appointments
                        .partition_point(|b| b.start <= a.start);
                    schedule.appointments.insert(at, busy);
                    *verdict = Some(Verdict::Booked);
                    accepted.push(i);
                }
                _ => {
                    *verdict = Some(Verdict::Refused);
                    refused.push(i);
                }
            }
        }
        Ok((accepted, refused))
    }

    /// The second phase: write the accepted appointments, and the refusals under the keys
    /// the first phase claimed (`decided`: indices into `jobs` of both).
    fn writes(
        &self,
        jobs: &[Job],
        (accepted, refused): &(Vec<usize>, Vec<usize>),
    ) -> StoreResult<Vec<Statement>> {
        let mut statements = Vec::new();
        if !accepted.is_empty() {
            let rows = accepted
                .iter()
                .map(|&i| AppointmentRow::of(&jobs[i].appointment))
                .collect::<StoreResult<Vec<_>>>()?;
            statements.push(Statement {
                sql: format!(
                    "INSERT INTO appointments ({APPOINTMENT_COLUMNS}, lat, lon)
                     SELECT value ->> 'id', value ->> 'firm_id', value ->> 'expert_id',
                            value ->> 'client_id', value ->> 'status',
                            CAST(value ->> 'version' AS BIGINT),
                            CAST(value ->> 'start_at' AS BIGINT),
                            CAST(value ->> 'end_at' AS BIGINT),
                            value ->> 'mode', value ->> 'expertise_type', value ->> 'place',
                            value ->> 'claims_ia_ref', value ->> 'claim_ref',
                            value ->> 'contact', value ->> 'comment', value ->> 'cancellation',
                            CAST(value ->> 'created_at' AS BIGINT),
                            CAST(value ->> 'updated_at' AS BIGINT), value ->> 'search_id',
                            CAST(value ->> 'lat' AS DOUBLE PRECISION),
                            CAST(value ->> 'lon' AS DOUBLE PRECISION)
                     FROM {} WHERE true",
                    spans::elements(self.backend, "$1")
                ),
                args: vec![Arg::Text(to_json(&rows)?)],
            });
            statements.extend(self.booked_events(jobs, accepted)?);
        }
        let refusals: Vec<KeyRow<'_>> = refused
            .iter()
            .filter_map(|&i| jobs[i].key.as_ref())
            .map(|k| KeyRow::of(&k.refusal, &k.request_hash))
            .collect();
        if !refusals.is_empty() {
            // Keys this transaction claimed, so always there: the upsert finds each
            // through its unique index, whatever the statistics say.
            statements.push(Statement {
                sql: self.write_keys("status = excluded.status, response = excluded.response"),
                args: vec![
                    Arg::Text(to_json(&refusals)?),
                    Arg::Int(self.clock.now_ms()),
                ],
            });
        }
        Ok(statements)
    }

    /// `appointment.booked` for the feed of each accepted appointment's firm (queued: the
    /// sequencer orders it, so the group takes no lock for it).
    fn booked_events(&self, jobs: &[Job], accepted: &[usize]) -> StoreResult<Vec<Statement>> {
        let events = accepted
            .iter()
            .map(|&i| {
                let a = &jobs[i].appointment;
                let (data, changes) = crate::wire::diff::booked_event(a);
                Ok(serde_json::json!({
                    "firm_id": a.firm_id,
                    "appointment_id": a.id,
                    "data": data.to_string(),
                    "changes": to_json(&changes)?,
                }))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let elements = spans::elements(self.backend, "$1");
        let statements = vec![Statement {
            sql: format!(
                "INSERT INTO firm_event_queue (firm_id, type, appointment_id, data, changes,
                    occurred_at)
                 SELECT value ->> 'firm_id', 'appointment.booked', value ->> 'appointment_id',
                        value ->> 'data', value ->> 'changes', $2
                 FROM {elements} WHERE true"
            ),
            args: vec![Arg::Text(to_json(&events)?), Arg::Int(self.clock.now_ms())],
        }];
        Ok(statements)
    }

    /// An upsert of the keys of the JSON array `$1` (each a [`KeyRow`], created at `$2`)
    /// that sets `on_conflict` (what follows `DO UPDATE SET`) on a key already there.
    fn write_keys(&self, on_conflict: &str) -> String {
        format!(
            "INSERT INTO idempotency_keys (client_id, key, request_hash, status, response, created_at)
             SELECT value ->> 'client', value ->> 'key', value ->> 'hash',
                    CAST(value ->> 'status' AS BIGINT), value ->> 'response', $2
             FROM {} WHERE true
             ON CONFLICT (client_id, key) DO UPDATE SET {on_conflict}",
            spans::elements(self.backend, "$1")
        )
    }
}

/// The first phase's results (the experts, the claimed keys if any, the calendars) by
/// statement.
fn split_reads(mut results: Vec<Vec<AnyRow>>) -> Reads {
    let calendars = results.pop().unwrap_or_default();
    let claimed = (results.len() > 1).then(|| results.pop().unwrap_or_default());
    let experts = results.pop().unwrap_or_default();
    Reads {
        experts,
        claimed,
        calendars,
    }
}

fn finished(verdicts: Vec<Option<Verdict>>) -> Vec<Verdict> {
    verdicts
        .into_iter()
        .map(|v| v.unwrap_or(Verdict::Alone))
        .collect()
}

/// The jobs not decided yet.
fn undecided<'a>(
    jobs: &'a [Job],
    verdicts: &'a [Option<Verdict>],
) -> impl Iterator<Item = &'a Job> + 'a {
    jobs.iter()
        .zip(verdicts)
        .filter(|(_, v)| v.is_none())
        .map(|(job, _)| job)
}

/// Whether no CONFIRMED appointment of `schedule` overlaps `a`: the rule the database
/// enforces (the exclusion constraint on PostgreSQL, a trigger on SQLite), checked first
/// so that a booking it would refuse does not roll back the whole group.
fn free(schedule: &Schedule, a: &Appointment) -> bool {
    !schedule
        .appointments
        .iter()
        .any(|b| b.start < a.end && a.start < b.end)
}
