//! Announcements of calendar changes: PostgreSQL `NOTIFY` on one channel, each payload the
//! announcing instance then its changes, separated by spaces: `c:<expert>` (read the
//! calendar again) or `b:<expert>:<start ms>:<end ms>[:<lat>:<lon>]` (this appointment was
//! booked). Nothing on SQLite.

use async_trait::async_trait;
use sqlx::postgres::PgListener;

use super::SqlStore;
use crate::store::{
    Announcement, CalendarChange, ChangeListener, Changes, StoreError, StoreResult,
};

/// The channel of the announcements.
const CHANNEL: &str = "creneau_calendars";

/// Longest payload sent (PostgreSQL refuses 8,000 bytes and more).
const MAX_PAYLOAD: usize = 7_900;

fn word(change: &CalendarChange) -> String {
    match change {
        CalendarChange::Changed { expert_id } => format!("c:{expert_id}"),
        CalendarChange::Booked {
            expert_id,
            start_ms,
            end_ms,
            place: None,
        } => format!("b:{expert_id}:{start_ms}:{end_ms}"),
        CalendarChange::Booked {
            expert_id,
            start_ms,
            end_ms,
            place: Some((lat, lon)),
        } => format!("b:{expert_id}:{start_ms}:{end_ms}:{lat}:{lon}"),
    }
}

fn change(word: &str) -> Option<CalendarChange> {
    let mut parts = word.split(':');
    let (kind, expert_id) = (parts.next()?, parts.next()?.to_owned());
    match kind {
        "c" => Some(CalendarChange::Changed { expert_id }),
        "b" => {
            let start_ms = parts.next()?.parse().ok()?;
            let end_ms = parts.next()?.parse().ok()?;
            let place = match (parts.next(), parts.next()) {
                (Some(lat), Some(lon)) => Some((lat.parse().ok()?, lon.parse().ok()?)),
                _ => None,
            };
            Some(CalendarChange::Booked {
                expert_id,
                start_ms,
                end_ms,
                place,
            })
        }
        _ => None,
    }
}

/// `origin` then `changes`, space-separated, in payloads under [`MAX_PAYLOAD`] bytes.
fn payloads(origin: &str, changes: &[CalendarChange]) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut current = origin.to_owned();
    for change in changes {
        let word = word(change);
        if current.len() + 1 + word.len() > MAX_PAYLOAD && current.len() > origin.len() {
            payloads.push(std::mem::replace(&mut current, origin.to_owned()));
        }
        current.push(' ');
        current.push_str(&word);
    }
    if current.len() > origin.len() {
        payloads.push(current);
    }
    payloads
}

/// An announcement read back; a change it cannot read becomes "read the calendar again"
/// when its expert is known, and is left out otherwise.
fn parse(payload: &str) -> Option<Announcement> {
    let mut words = payload.split(' ').filter(|w| !w.is_empty());
    let origin = words.next()?.to_owned();
    let changes = words
        .filter_map(|w| {
            change(w).or_else(|| {
                let expert_id = w.split(':').nth(1)?.to_owned();
                Some(CalendarChange::Changed { expert_id })
            })
        })
        .collect();
    Some(Announcement { origin, changes })
}

#[async_trait]
impl Changes for SqlStore {
    async fn announce_changes(&self, origin: &str, changes: &[CalendarChange]) -> StoreResult<()> {
        if !self.backend.dialect().announces {
            return Ok(());
        }
        for payload in payloads(origin, changes) {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(payload)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    async fn listen_changes(&self) -> StoreResult<Option<Box<dyn ChangeListener>>> {
        let Some(url) = self.postgres_url.as_deref() else {
            return Ok(None);
        };
        let mut listener = PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        Ok(Some(Box::new(Listener(listener))))
    }
}

struct Listener(PgListener);

#[async_trait]
impl ChangeListener for Listener {
    async fn next(&mut self) -> StoreResult<Option<Announcement>> {
        loop {
            let Some(notification) = self.0.try_recv().await.map_err(StoreError::from)? else {
                return Ok(None);
            };
            if let Some(announcement) = parse(notification.payload()) {
                return Ok(Some(announcement));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_announcements_are_cut_into_payloads_postgres_accepts_and_read_back() {
        let changes: Vec<CalendarChange> = (0..400)
            .map(|i| {
                let expert_id = format!("01a2{i:032}");
                match i % 3 {
                    0 => CalendarChange::Changed { expert_id },
                    1 => CalendarChange::Booked {
                        expert_id,
                        start_ms: 1_796_713_200_000 + i,
                        end_ms: 1_796_715_000_000 + i,
                        place: None,
                    },
                    _ => CalendarChange::Booked {
                        expert_id,
                        start_ms: -5,
                        end_ms: 7,
                        place: Some((48.868_6, -2.331_600_000_000_1)),
                    },
                }
            })
            .collect();
        let payloads = payloads("origin", &changes);
        assert!(payloads.len() > 1);
        assert!(payloads.iter().all(|p| p.len() <= MAX_PAYLOAD));
        let back: Vec<CalendarChange> = payloads
            .iter()
            .map(|p| parse(p).unwrap())
            .inspect(|a| assert_eq!(a.origin, "origin"))
            .flat_map(|a| a.changes)
            .collect();
        assert_eq!(back, changes);
        assert!(super::payloads("origin", &[]).is_empty());
    }

    #[test]
    fn a_change_that_cannot_be_read_asks_to_read_the_calendar_again() {
        let read = parse("o b:e1:12:x c:e2 zz").unwrap();
        assert_eq!(
            read.changes,
            [
                CalendarChange::Changed {
                    expert_id: "e1".into()
                },
                CalendarChange::Changed {
                    expert_id: "e2".into()
                },
            ]
        );
    }
}
