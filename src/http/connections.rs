//! The connections a listener serves at once. Past its limit, a new connection closes the
//! oldest one that has not sent a request yet: clients that open sockets and stay silent, or
//! trickle their headers, cannot crowd out the ones that ask something (a probe's
//! `/healthz`, say). When every connection is busy with a request, new ones wait.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// A connection as the limit sees it.
#[derive(Default)]
pub(super) struct Connection {
    /// It has sent a request (whole headers): it is no longer closed to make room.
    asked: AtomicBool,
    /// It is over.
    closed: AtomicBool,
    /// Told to close to make room.
    evict: Notify,
}

impl Connection {
    /// Records that a request arrived.
    pub fn asked(&self) {
        self.asked.store(true, Ordering::Relaxed);
    }

    /// Completes when the connection must close to make room for another.
    pub async fn evicted(&self) {
        self.evict.notified().await;
    }

    fn silent(&self) -> bool {
        !self.asked.load(Ordering::Relaxed) && !self.closed.load(Ordering::Relaxed)
    }
}

/// A served connection's place: frees it when dropped.
pub(super) struct Slot {
    connection: Arc<Connection>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.connection.closed.store(true, Ordering::Relaxed);
    }
}

/// The connections of one listener.
pub(super) struct Connections {
    max: usize,
    permits: Arc<Semaphore>,
    /// Connections that may not have sent a request yet, oldest first (pruned lazily).
    silent: Mutex<VecDeque<Arc<Connection>>>,
}

impl Connections {
    pub fn new(max: usize) -> Self {
        Self {
            max,
            permits: Arc::new(Semaphore::new(max)),
            silent: Mutex::new(VecDeque::new()),
        }
    }

    /// A place for a connection just accepted: a free one, or the place of the oldest silent
    /// connection, told to close; when none is silent, the first place to free up.
    pub async fn admit(&self) -> (Arc<Connection>, Slot) {
        let permit = if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
            permit
        } else {
            if self.evict_oldest_silent() {
                tracing::debug!("connection limit reached: closed the oldest silent one");
            }
            Arc::clone(&self.permits)
                .acquire_owned()
                .await
                .expect("the semaphore is never closed")
        };
        let connection = Arc::new(Connection::default());
        if let Ok(mut silent) = self.silent.lock() {
            if silent.len() >= 2 * self.max {
                silent.retain(|c| c.silent());
            }
            silent.push_back(Arc::clone(&connection));
        }
        let slot = Slot {
            connection: Arc::clone(&connection),
            _permit: permit,
        };
        (connection, slot)
    }

    fn evict_oldest_silent(&self) -> bool {
        let Ok(mut silent) = self.silent.lock() else {
            return false;
        };
        while let Some(connection) = silent.pop_front() {
            if connection.silent() {
                connection.evict.notify_one();
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn past_the_limit_the_oldest_silent_connection_makes_room() {
        let connections = Connections::new(2);
        let (first, first_slot) = connections.admit().await;
        let (second, _second_slot) = connections.admit().await;
        second.asked();
        // The third waits for the first (silent) to close, not for the second (asking).
        let third = tokio::spawn(async move {
            let admitted = connections.admit().await;
            (connections, admitted)
        });
        tokio::time::timeout(std::time::Duration::from_secs(5), first.evicted())
            .await
            .expect("the oldest silent connection is told to close");
        drop(first_slot);
        let (_connections, _third) = third.await.unwrap();
        let second_evicted =
            tokio::time::timeout(std::time::Duration::from_millis(50), second.evicted()).await;
        assert!(second_evicted.is_err(), "a connection that asked is kept");
    }

    #[tokio::test]
    async fn when_every_connection_asks_a_new_one_waits() {
        let connections = Arc::new(Connections::new(1));
        let (only, slot) = connections.admit().await;
        only.asked();
        let waiting = tokio::spawn({
            let connections = Arc::clone(&connections);
            async move { connections.admit().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(slot);
        tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("admitted once the busy connection closes")
            .unwrap();
    }
}
