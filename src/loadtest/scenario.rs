//! One virtual Claims IA client: search, book (often the first slot, which others chase
//! too), sometimes cancel or reschedule, and time `GET /healthz` once per round.

use std::time::Instant;

use rand::seq::IndexedRandom as _;
use rand::{Rng as _, SeedableRng as _};
use reqwest::Method;
use serde_json::{Value, json};

use super::Shared;
use super::bodies::{self, tracked};
use super::invariants::{Expect, Tracked};
use super::report::{Operation, Recorder};
use crate::config::Mix;
use crate::synthetic::SyntheticRng;

/// Share of bookings cancelled, and share rescheduled, right after booking.
const CANCEL: f64 = 0.1;
const RESCHEDULE: f64 = 0.1;
/// Attempts of a keyed request that got no answer (the instance may have died).
const ATTEMPTS: usize = 3;

/// An HTTP answer: status (0 when none came) and JSON body (`Null` when not JSON).
struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    /// Whether the change may or may not have been made: no answer, a timeout, a server
    /// error, or the same key still in flight on an instance that died.
    fn is_uncertain(&self) -> bool {
        matches!(self.status, 0 | 408 | 500..) || self.body["code"] == "idempotency-key-in-flight"
    }
}

/// A virtual client's state.
pub(super) struct Client<'a> {
    shared: &'a Shared,
    index: u32,
    /// `--mix book`: the lane of days it books in now.
    lane: u32,
    rng: SyntheticRng,
    rounds: u64,
    /// Its figures.
    pub recorder: Recorder,
    /// Bookings that got a 201.
    pub booked: Vec<Tracked>,
}

impl<'a> Client<'a> {
    pub(super) fn new(shared: &'a Shared, index: u32) -> Self {
        let mut rng = SyntheticRng::seed_from_u64(shared.seed);
        rng.set_stream(u64::from(index));
        Self {
            shared,
            index,
            lane: index,
            rng,
            rounds: 0,
            recorder: Recorder::default(),
            booked: Vec::new(),
        }
    }

    /// Loops over rounds until the run is over.
    pub(super) async fn run(mut self) -> Self {
        while self.round().await.is_some() {
            self.rounds += 1;
        }
        self
    }

    /// One round; `None` once the run is over.
    async fn round(&mut self) -> Option<()> {
        match self.shared.mix {
            Mix::Healthz => {
                return self
                    .call(Operation::Healthz, Method::GET, "/healthz", None, None)
                    .await
                    .map(drop);
            }
            Mix::Search => return self.search().await.map(drop),
            Mix::Book => return self.book_every_slot().await,
            Mix::Scenario => {}
        }
        self.call(Operation::Healthz, Method::GET, "/healthz", None, None)
            .await?;
        let slots = self.search().await?;
        if slots.is_empty() {
            return Some(());
        }
        let contested = self.rng.random_bool(self.shared.contested);
        let slot = if contested {
            &slots[0]
        } else {
            self.pick(&slots)
        };
        let reference = format!("LT-{}-{}-{}", self.shared.run_id, self.index, self.rounds);
        let key = format!("{reference}-book");
        let Some(mut booking) = self.book(slot, &reference, &key).await? else {
            return Some(());
        };
        let draw: f64 = self.rng.random();
        if draw < CANCEL {
            let path = format!("/v1/appointments/{}/cancellation", booking.id);
            let body = json!({ "reason": "INSURED_REQUEST" });
            let answer = self
                .keyed(Operation::Cancel, &path, &body, &format!("{key}-cancel"))
                .await;
            booking.expect = match answer {
                Some(a) if a.status == 200 => Expect::Cancelled,
                Some(a) if a.is_uncertain() => Expect::CancelledOrConfirmed,
                _ => Expect::Confirmed,
            };
        } else if draw < CANCEL + RESCHEDULE {
            self.reschedule(&mut booking, &key).await;
        }
        self.booked.push(booking);
        self.shared.is_running().then_some(())
    }

    /// Books `slot` for claim `reference` with Idempotency-Key `key`: the booking when it
    /// got a 201, `None` once the run is over.
    async fn book(&mut self, slot: &Value, reference: &str, key: &str) -> Option<Option<Tracked>> {
        let body = json!({ "slotId": slot["slotId"], "claimsIaRef": reference,
                           "contact": { "name": "Mme Charge" } });
        let answer = self
            .keyed(Operation::Book, "/v1/appointments", &body, key)
            .await?;
        Some(
            (answer.status == 201)
                .then(|| tracked(&answer.body))
                .flatten(),
        )
    }

    /// `--mix book`: one search, then a booking of each slot it offered, so that bookings
    /// are most of the requests; `None` once the run is over. Each client searches its own
    /// lane of days by video, so that no two clients are offered the same slot: the run
    /// measures bookings, not contention (the scenario measures that). Client `i` starts
    /// on lane `i`; when its lane is full, it moves on to the next, so a run never runs
    /// out of free slots (with more clients than [`bodies::BOOKING_LANES`], or after
    /// moving on, two may share a lane).
    async fn book_every_slot(&mut self) -> Option<()> {
        let body = bodies::visio_lane(self.lane);
        let slots = self.search_body(&body).await?;
        if slots.is_empty() {
            self.lane = (self.lane + 1) % bodies::BOOKING_LANES;
        }
        // One slot per expert: an expert's later slots often touch the first (its buffer
        // between appointments), so booking them all would mostly measure refusals.
        let mut experts = std::collections::HashSet::new();
        let slots = slots
            .iter()
            .filter(|slot| experts.insert(slot["expert"]["id"].as_str().map(str::to_owned)));
        for (n, slot) in slots.enumerate() {
            let reference = format!(
                "LT-{}-{}-{}-{n}",
                self.shared.run_id, self.index, self.rounds
            );
            let key = format!("{reference}-book");
            if let Some(booking) = self.book(slot, &reference, &key).await? {
                self.booked.push(booking);
            }
        }
        Some(())
    }

    /// A slot search; `None` once the run is over.
    async fn search(&mut self) -> Option<Vec<Value>> {
        let body = bodies::search(&mut self.rng);
        self.search_body(&body).await
    }

    /// The slot search `body`; `None` once the run is over.
    async fn search_body(&mut self, body: &Value) -> Option<Vec<Value>> {
        let answer = self
            .call(
                Operation::Search,
                Method::POST,
                "/v1/slot-searches",
                Some(body),
                None,
            )
            .await?;
        Some(match answer.body["slots"].as_array() {
            Some(slots) if answer.status == 200 => slots.clone(),
            _ => Vec::new(),
        })
    }

    /// Moves a booking to a random slot of a new search.
    async fn reschedule(&mut self, booking: &mut Tracked, key: &str) {
        let Some(slots) = self.search().await.filter(|s| !s.is_empty()) else {
            return;
        };
        let body = json!({ "slotId": self.pick(&slots)["slotId"] });
        let path = format!("/v1/appointments/{}/reschedule", booking.id);
        match self
            .keyed(Operation::Reschedule, &path, &body, &format!("{key}-move"))
            .await
        {
            Some(a) if a.status == 200 => {
                if let Some(moved) = tracked(&a.body) {
                    *booking = moved;
                } else {
                    booking.expect = Expect::ConfirmedSomewhen;
                }
            }
            Some(a) if a.is_uncertain() => booking.expect = Expect::ConfirmedSomewhen,
            _ => {}
        }
    }

    fn pick<'s>(&mut self, slots: &'s [Value]) -> &'s Value {
        slots.choose(&mut self.rng).expect("a slot")
    }

    /// A keyed unsafe request, sent again (same key, next target) while no answer comes
    /// back; `None` when the run was over before it was sent.
    async fn keyed(
        &mut self,
        op: Operation,
        path: &str,
        body: &Value,
        key: &str,
    ) -> Option<Answer> {
        let mut answer = self
            .call(op, Method::POST, path, Some(body), Some(key))
            .await?;
        for _ in 1..ATTEMPTS {
            if answer.status != 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            answer = self
                .call(op, Method::POST, path, Some(body), Some(key))
                .await?;
        }
        Some(answer)
    }

    /// One timed request to the next target; status 0 when no answer came. `None` when the
    /// run was over before it was sent.
    async fn call(
        &mut self,
        op: Operation,
        method: Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Option<Answer> {
        if !self.shared.take_ticket() {
            return None;
        }
        let mut request = self
            .shared
            .http
            .request(method, format!("{}{path}", self.shared.next_target()))
            .bearer_auth(&self.shared.api_key);
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let started = Instant::now();
        let answer = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.json().await.unwrap_or(Value::Null);
                Answer { status, body }
            }
            Err(_) => Answer {
                status: 0,
                body: Value::Null,
            },
        };
        let status = (answer.status != 0).then_some(answer.status);
        self.recorder.record(op, started.elapsed(), status);
        Some(answer)
    }
}
