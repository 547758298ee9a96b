//! Bookings grouped into shared transactions (group commit).
//!
//! Alone, a booking is a transaction of seven statements and a commit that waits for the
//! write-ahead log to reach the disk; under load, PostgreSQL spends most of its time on
//! that per-transaction work rather than on the rows. Here the bookings that arrive while
//! earlier ones are being written wait in a queue, and the next transaction takes all of
//! them (up to a limit): it locks their experts (in id order, so two such transactions never
//! deadlock), claims their Idempotency-Keys, reads their calendars, decides each booking in
//! arrival order — a booking sees the ones accepted before it in the same group — and
//! writes the accepted appointments, the refusals and the answers in one statement each,
//! then commits once. Each statement carries the whole group as one JSON parameter, so the
//! statements stay the same whatever the group's size (one prepared statement each).
//!
//! Every booking gets its own verdict, exactly what booking alone would have given, and
//! nothing is answered before the commit. When the group transaction fails before its
//! commit (an integrity rule the decisions did not foresee, such as a claim booked by
//! another request; a deadlock with a retried request), it is rolled back and each of its
//! bookings is told to go alone, through the one-booking transaction, which knows how to
//! answer every such case. When the commit itself fails, the outcome is unknown and each
//! booking answers an error: a client retrying with its Idempotency-Key learns the truth.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use chrono::Duration;
use serde::Serialize;
use sqlx::{AnyPool, AssertSqlSafe, Row};
use tokio::sync::{mpsc, oneshot};

use super::rows::{APPOINTMENT_COLUMNS, SCHEDULE_MARGIN_DAYS};
use super::spans::{self, Span};
use super::{expert_from_row, now_ms, to_json};
use crate::store::{
    Appointment, Backend, Busy, Expert, IdempotencyRecord, Recheck, Schedule, StoreError,
    StoreResult,
};

/// Bookings waiting for a group beyond this many make `submit` wait (back-pressure).
const QUEUE: usize = 1024;

/// A booking handed to the group writer.
pub(super) struct Job {
    /// The appointment to write.
    pub appointment: Appointment,
    /// Decides from the expert's schedule whether the slot may still be booked.
    pub recheck: Arc<Recheck>,
    /// A key never seen yet, claimed in the group transaction.
    pub key: Option<FreshKey>,
}

/// What a group transaction records under a booking's fresh Idempotency-Key.
pub(super) struct FreshKey {
    /// The answer to a success.
    pub answer: IdempotencyRecord,
    /// The request's fingerprint.
    pub request_hash: String,
    /// Keys created before this instant (ms) are expired and may be replaced.
    pub expired_before_ms: i64,
    /// The answer to a refusal because the slot is no longer free.
    pub refusal: IdempotencyRecord,
}

/// The outcome of one booking in a group.
#[derive(Debug)]
pub(super) enum Verdict {
    /// Written and committed (with its answer under its key).
    Booked,
    /// The slot is no longer free (or the expert no longer bookable); the refusal is
    /// recorded under its key. Nothing was booked.
    Refused,
    /// Its key was already known: nothing was written for it.
    KeyTaken,
    /// Not decided here: book it alone.
    Alone,
    /// The group's commit failed; whether it happened is unknown.
    Failed(StoreError),
}

/// The group writer of one store: a queue and the task that empties it.
#[derive(Debug)]
pub(super) struct Batcher {
    queue: mpsc::Sender<Queued>,
}

/// What a group transaction needs of its store.
struct Writer {
    pool: AnyPool,
    backend: Backend,
}

impl Batcher {
    /// Starts the group writer: at most `max` bookings a transaction, at most `concurrent`
    /// transactions at once, on `pool` (the store's write pool). Needs a Tokio runtime.
    pub fn start(pool: AnyPool, backend: Backend, max: usize, concurrent: usize) -> Self {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let writer = Arc::new(Writer { pool, backend });
        tokio::spawn(dispatch(jobs, writer, max.max(1), concurrent.max(1)));
        Self { queue }
    }

    /// Books `job` in the next group transaction; [`Verdict::Alone`] when the group writer
    /// is gone (the runtime shutting down).
    pub async fn submit(&self, job: Job) -> Verdict {
        let (reply, verdict) = oneshot::channel();
        if self.queue.send((job, reply)).await.is_err() {
            return Verdict::Alone;
        }
        verdict.await.unwrap_or_else(|_| {
            // The group's task ended without an answer (a panic, or the runtime stopping
            // mid-transaction): the transaction may or may not have committed.
            Verdict::Failed(uncertain("the booking group ended without a verdict"))
        })
    }
}

/// A booking waiting for its group, and where its verdict goes.
type Queued = (Job, oneshot::Sender<Verdict>);

/// Starts group transactions from the queued bookings, as many as are waiting (up to `max`
/// a group), while fewer than `concurrent` are in flight; ends when the store is dropped.
///
/// Two groups in flight never share an expert: a booking whose expert a group in flight
/// holds waits for the next group. Concurrent groups therefore never wait for each other's
/// row locks, which would only serialise them (and hold a connection while waiting).
async fn dispatch(
    mut queue: mpsc::Receiver<Queued>,
    writer: Arc<Writer>,
    max: usize,
    concurrent: usize,
) {
    let (done, mut finished) = mpsc::unbounded_channel::<Vec<String>>();
    let mut pending: VecDeque<Queued> = VecDeque::new();
    let mut busy: HashSet<String> = HashSet::new();
    let mut in_flight = 0;
    let mut open = true;
    loop {
        tokio::select! {
            queued = queue.recv(), if open && pending.len() < QUEUE => match queued {
                Some(queued) => pending.push_back(queued),
                None => open = false,
            },
            Some(experts) = finished.recv(), if in_flight > 0 => {
                in_flight -= 1;
                for expert in &experts {
                    busy.remove(expert);
                }
            }
            else => return,
        }
        while pending.len() < QUEUE
            && let Ok(queued) = queue.try_recv()
        {
            pending.push_back(queued);
        }
        while in_flight < concurrent {
            let group = next_group(&mut pending, &mut busy, max);
            if group.is_empty() {
                break;
            }
            in_flight += 1;
            let release = Release {
                experts: group
                    .iter()
                    .map(|(job, _)| job.appointment.expert_id.clone())
                    .collect(),
                done: done.clone(),
            };
            let writer = Arc::clone(&writer);
            tokio::spawn(async move {
                let (jobs, replies): (Vec<_>, Vec<_>) = group.into_iter().unzip();
                let verdicts = writer.write(&jobs).await;
                drop(release);
                for (reply, verdict) in replies.into_iter().zip(verdicts) {
                    // The caller may have gone (its request cancelled); the verdict stands.
                    let _ = reply.send(verdict);
                }
            });
        }
    }
}

/// Hands a finished group's experts back to the dispatcher, even if the group's task
/// panicked.
struct Release {
    experts: Vec<String>,
    done: mpsc::UnboundedSender<Vec<String>>,
}

impl Drop for Release {
    fn drop(&mut self) {
        let _ = self.done.send(std::mem::take(&mut self.experts));
    }
}

/// Takes out of `pending`, in order, up to `max` bookings whose experts no group in flight
/// holds (`busy`), and marks their experts held; the others keep their place.
fn next_group(
    pending: &mut VecDeque<Queued>,
    busy: &mut HashSet<String>,
    max: usize,
) -> Vec<Queued> {
    let mut group = Vec::new();
    let mut taken: HashSet<String> = HashSet::new();
    let mut kept = VecDeque::with_capacity(pending.len());
    while let Some(queued) = pending.pop_front() {
        if group.len() == max {
            kept.push_back(queued);
            kept.append(pending);
            break;
        }
        let expert = &queued.0.appointment.expert_id;
        if taken.contains(expert) || !busy.contains(expert) {
            taken.insert(expert.clone());
            group.push(queued);
        } else {
            kept.push_back(queued);
        }
    }
    *pending = kept;
    busy.extend(taken);
    group
}

/// A group transaction that failed, and whether its outcome is known.
enum Failure {
    /// Rolled back: nothing of it was written.
    RolledBack(StoreError),
    /// The commit failed: it may have been written.
    Commit(StoreError),
}

fn uncertain(what: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(what.to_owned()))
}

/// An expert's profile and the calendar read for a group, which grows with the group's
/// accepted bookings.
type Calendars = HashMap<String, Schedule>;

impl Writer {
    /// One verdict per job, in order.
    async fn write(&self, jobs: &[Job]) -> Vec<Verdict> {
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
            Err(Failure::Commit(err)) => {
                tracing::error!(
                    error = %err,
                    bookings = jobs.len(),
                    "booking group commit failed; outcome unknown"
                );
                let what = format!("the booking transaction's commit failed: {err}");
                jobs.iter()
                    .map(|_| Verdict::Failed(uncertain(&what)))
                    .collect()
            }
        }
    }

    async fn try_write(&self, jobs: &[Job]) -> Result<Vec<Verdict>, Failure> {
        let rolled_back = Failure::RolledBack;
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
        let begin = match self.backend {
            Backend::Sqlite => crate::store::sqlite::BEGIN_WRITE,
            Backend::Postgres => crate::store::postgres::BEGIN_WRITE,
        };
        let mut tx = self
            .pool
            .begin_with(begin)
            .await
            .map_err(|e| rolled_back(e.into()))?;
        let experts = self
            .lock_experts(&mut tx, jobs, &verdicts)
            .await
            .map_err(rolled_back)?;
        self.claim_keys(&mut tx, jobs, &mut verdicts)
            .await
            .map_err(rolled_back)?;
        let mut calendars = self
            .calendars(&mut tx, jobs, &verdicts, experts)
            .await
            .map_err(rolled_back)?;
        let mut accepted = Vec::new();
        let mut refused = Vec::new();
        for (i, (job, verdict)) in jobs.iter().zip(&mut verdicts).enumerate() {
            if verdict.is_some() {
                continue;
            }
            let a = &job.appointment;
            let schedule = calendars
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
        self.insert(&mut tx, jobs, &accepted)
            .await
            .map_err(rolled_back)?;
        self.record_refusals(&mut tx, jobs, &refused)
            .await
            .map_err(rolled_back)?;
        tx.commit().await.map_err(|e| Failure::Commit(e.into()))?;
        Ok(verdicts
            .into_iter()
            .map(|v| v.unwrap_or(Verdict::Alone))
            .collect())
    }

    /// Locks the experts of the undecided jobs, in id order, and reads their profiles.
    async fn lock_experts(
        &self,
        tx: &mut sqlx::AnyConnection,
        jobs: &[Job],
        verdicts: &[Option<Verdict>],
    ) -> StoreResult<HashMap<String, Expert>> {
        let ids: HashSet<&str> = undecided(jobs, verdicts)
            .map(|job| job.appointment.expert_id.as_str())
            .collect();
        let (matching, lock) = match self.backend {
            // `= ANY` keeps the primary key's index whatever the planner guesses of the
            // JSON array's length.
            Backend::Postgres => (
                "= ANY(ARRAY(SELECT jsonb_array_elements_text(CAST($1 AS JSONB))))",
                "FOR UPDATE",
            ),
            // BEGIN IMMEDIATE already holds the database's write lock.
            Backend::Sqlite => ("IN (SELECT value FROM json_each($1))", ""),
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT id, firm_id, profile, created_at, updated_at FROM experts
             WHERE id {matching} ORDER BY id {lock}"
        )))
        .bind(to_json(&ids)?)
        .fetch_all(&mut *tx)
        .await?;
        rows.iter()
            .map(|row| expert_from_row(row).map(|e| (e.id.clone(), e)))
            .collect()
    }

    /// Claims the fresh keys of the undecided jobs, with their success answers; a job
    /// whose key is already known (and unexpired) becomes [`Verdict::KeyTaken`].
    async fn claim_keys(
        &self,
        tx: &mut sqlx::AnyConnection,
        jobs: &[Job],
        verdicts: &mut [Option<Verdict>],
    ) -> StoreResult<()> {
        let claims: Vec<KeyRow<'_>> = undecided(jobs, verdicts)
            .filter_map(|job| job.key.as_ref())
            .map(|k| KeyRow::of(&k.answer, &k.request_hash))
            .collect();
        if claims.is_empty() {
            return Ok(());
        }
        let expired_before = undecided(jobs, verdicts)
            .filter_map(|job| job.key.as_ref().map(|k| k.expired_before_ms))
            .min()
            .unwrap_or(i64::MIN);
        let rows = sqlx::query(AssertSqlSafe(self.write_keys(
            "request_hash = excluded.request_hash, status = excluded.status,
             response = excluded.response, created_at = excluded.created_at
             WHERE idempotency_keys.created_at < $3 RETURNING client_id, key",
        )))
        .bind(to_json(&claims)?)
        .bind(now_ms())
        .bind(expired_before)
        .fetch_all(&mut *tx)
        .await?;
        let claimed = rows
            .iter()
            .map(|row| Ok((row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?)))
            .collect::<StoreResult<HashSet<_>>>()?;
        for (job, verdict) in jobs.iter().zip(verdicts) {
            if let (None, Some(k)) = (&verdict, &job.key)
                && !claimed.contains(&(k.answer.client_id.clone(), k.answer.key.clone()))
            {
                *verdict = Some(Verdict::KeyTaken);
            }
        }
        Ok(())
    }

    /// An upsert of the keys of the JSON array bound as `$1` (each a [`KeyRow`], created at
    /// `$2`) that sets `on_conflict` (what follows `DO UPDATE SET`) on a key already
    /// there. Keys are found through their unique index whatever the statistics say.
    fn write_keys(&self, on_conflict: &str) -> String {
        format!(
            "INSERT INTO idempotency_keys (client_id, key, request_hash, status, response, created_at)
             SELECT value ->> 'client', value ->> 'key', value ->> 'hash',
                    CAST(value ->> 'status' AS BIGINT), value ->> 'response', $2
             FROM {} WHERE true
             ON CONFLICT (client_id, key) DO UPDATE SET {on_conflict}",
            spans::elements(self.backend, 1)
        )
    }

    /// The schedules of the undecided jobs' experts, each read over the span of its
    /// bookings widened by the margin a booking alone reads.
    async fn calendars(
        &self,
        tx: &mut sqlx::AnyConnection,
        jobs: &[Job],
        verdicts: &[Option<Verdict>],
        experts: HashMap<String, Expert>,
    ) -> StoreResult<Calendars> {
        let margin = Duration::days(SCHEDULE_MARGIN_DAYS);
        let mut spans: HashMap<&str, (i64, i64)> = HashMap::new();
        for job in undecided(jobs, verdicts) {
            let a = &job.appointment;
            if !experts.contains_key(&a.expert_id) {
                continue;
            }
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
        let mut read = spans::calendars(tx, self.backend, &spans).await?;
        Ok(experts
            .into_iter()
            .map(|(id, expert)| {
                let (absences, appointments) = read.remove(&id).unwrap_or_default();
                let schedule = Schedule {
                    expert,
                    absences,
                    appointments,
                };
                (id, schedule)
            })
            .collect())
    }

    /// Writes the accepted appointments (`accepted`: indices into `jobs`).
    async fn insert(
        &self,
        tx: &mut sqlx::AnyConnection,
        jobs: &[Job],
        accepted: &[usize],
    ) -> StoreResult<()> {
        if accepted.is_empty() {
            return Ok(());
        }
        let rows = accepted
            .iter()
            .map(|&i| AppointmentRow::of(&jobs[i].appointment))
            .collect::<StoreResult<Vec<_>>>()?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO appointments ({APPOINTMENT_COLUMNS}, lat, lon)
             SELECT value ->> 'id', value ->> 'firm_id', value ->> 'expert_id',
                    value ->> 'client_id', value ->> 'status', CAST(value ->> 'version' AS BIGINT),
                    CAST(value ->> 'start_at' AS BIGINT), CAST(value ->> 'end_at' AS BIGINT),
                    value ->> 'mode', value ->> 'expertise_type', value ->> 'place',
                    value ->> 'claims_ia_ref', value ->> 'claim_ref', value ->> 'contact',
                    value ->> 'comment', value ->> 'cancellation',
                    CAST(value ->> 'created_at' AS BIGINT), CAST(value ->> 'updated_at' AS BIGINT),
                    CAST(value ->> 'lat' AS DOUBLE PRECISION),
                    CAST(value ->> 'lon' AS DOUBLE PRECISION)
             FROM {} WHERE true",
            spans::elements(self.backend, 1)
        )))
        .bind(to_json(&rows)?)
        .execute(&mut *tx)
        .await
        .map_err(super::on_constraint)?;
        Ok(())
    }

    /// Records the refusals under the keys of the refused jobs (`refused`: indices into
    /// `jobs`) that have one: keys this transaction claimed, so always there.
    async fn record_refusals(
        &self,
        tx: &mut sqlx::AnyConnection,
        jobs: &[Job],
        refused: &[usize],
    ) -> StoreResult<()> {
        let answers: Vec<KeyRow<'_>> = refused
            .iter()
            .filter_map(|&i| jobs[i].key.as_ref())
            .map(|k| KeyRow::of(&k.refusal, &k.request_hash))
            .collect();
        if answers.is_empty() {
            return Ok(());
        }
        sqlx::query(AssertSqlSafe(self.write_keys(
            "status = excluded.status, response = excluded.response",
        )))
        .bind(to_json(&answers)?)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

/// An idempotency key and the answer it records, as the group's key statements read it.
#[derive(Serialize)]
struct KeyRow<'a> {
    client: &'a str,
    key: &'a str,
    hash: &'a str,
    status: u16,
    response: &'a str,
}

impl<'a> KeyRow<'a> {
    fn of(record: &'a IdempotencyRecord, request_hash: &'a str) -> Self {
        Self {
            client: &record.client_id,
            key: &record.key,
            hash: request_hash,
            status: record.status,
            response: &record.response,
        }
    }
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

/// An appointment as the group insert reads it.
#[derive(Serialize)]
struct AppointmentRow<'a> {
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
    lat: Option<f64>,
    lon: Option<f64>,
}

impl<'a> AppointmentRow<'a> {
    fn of(a: &'a Appointment) -> StoreResult<Self> {
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
            lat: geo.map(|g| g.lat()),
            lon: geo.map(|g| g.lon()),
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::ExpertiseType;
    use crate::domain::appointment::{AppointmentStatus, Mode};

    fn queued(expert: &str, id: &str) -> Queued {
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap();
        let appointment = Appointment {
            id: id.into(),
            firm_id: "f".into(),
            expert_id: expert.into(),
            client_id: "c".into(),
            status: AppointmentStatus::Confirmed,
            version: 1,
            start: at,
            end: at + Duration::hours(1),
            mode: Mode::Remote,
            expertise_type: ExpertiseType::Visio,
            place: None,
            claims_ia_ref: id.into(),
            claim_ref: None,
            contact: None,
            comment: None,
            cancellation: None,
            created_at: at,
            updated_at: at,
        };
        let job = Job {
            appointment,
            recheck: Arc::new(|_: &Schedule| true),
            key: None,
        };
        (job, oneshot::channel().0)
    }

    fn ids(queued: &[Queued]) -> Vec<&str> {
        queued
            .iter()
            .map(|(job, _)| job.appointment.id.as_str())
            .collect()
    }

    #[test]
    fn a_group_takes_in_order_what_no_group_in_flight_holds() {
        let mut pending: VecDeque<Queued> = [
            queued("x", "1"),
            queued("busy", "2"),
            queued("y", "3"),
            queued("x", "4"),
            queued("busy", "5"),
        ]
        .into();
        let mut busy: HashSet<String> = ["busy".to_owned()].into();
        let group = next_group(&mut pending, &mut busy, 10);
        // Two bookings of one free expert go together; the held expert's wait, in order.
        assert_eq!(ids(&group), ["1", "3", "4"]);
        assert_eq!(ids(pending.make_contiguous()), ["2", "5"]);
        assert!(busy.contains("x") && busy.contains("y"));
        // While x and y are held too, nothing else can start.
        assert!(next_group(&mut pending, &mut busy, 10).is_empty());
        busy.remove("busy");
        assert_eq!(ids(&next_group(&mut pending, &mut busy, 10)), ["2", "5"]);
        assert!(pending.is_empty());
    }

    #[test]
    fn a_group_stops_at_its_size_and_keeps_the_rest_in_order() {
        let mut pending: VecDeque<Queued> = (1..=5)
            .map(|i| queued(&format!("e{i}"), &i.to_string()))
            .collect();
        let mut busy = HashSet::new();
        assert_eq!(ids(&next_group(&mut pending, &mut busy, 2)), ["1", "2"]);
        assert_eq!(ids(pending.make_contiguous()), ["3", "4", "5"]);
        assert_eq!(busy.len(), 2);
    }
}
