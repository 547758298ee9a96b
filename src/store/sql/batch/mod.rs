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

mod group;
mod statement;

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use crate::store::{Appointment, Backend, IdempotencyRecord, Recheck, StoreError};

/// An error for an outcome that is not known.
fn uncertain(what: &str) -> StoreError {
    StoreError::OutcomeUnknown(what.to_owned())
}

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
    clock: crate::clock::Clock,
}

impl Batcher {
    /// Starts the group writer: at most `max` bookings a transaction, at most `concurrent`
    /// transactions at once, on `pool` (the store's write pool). Needs a Tokio runtime.
    pub fn start(
        pool: AnyPool,
        backend: Backend,
        max: usize,
        concurrent: usize,
        clock: crate::clock::Clock,
    ) -> Self {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let writer = Arc::new(Writer {
            pool,
            backend,
            clock,
        });
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

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;
    use crate::domain::ExpertiseType;
    use crate::domain::appointment::{AppointmentStatus, Mode};
    use crate::store::Schedule;

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
            search_id: None,
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
