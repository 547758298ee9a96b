//! A queue per expert for this instance's bookings, entered before a database connection
//! is taken.
//!
//! A booking locks its expert's row for the length of its transaction. When many
//! bookings chase one expert's slots (Claims IA clients all offered the same first slot),
//! each one waiting for that lock holds a pooled connection, and the pool runs dry for
//! everything else: searches reloading a calendar, bookings of other experts. Queued here
//! first, bookings of one expert wait without a connection; the database lock still
//! orders them across instances.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// Gates are dropped once nobody waits on them; the map is pruned past this size.
const PRUNE_ABOVE: usize = 1024;

/// One gate per key, alive while someone holds or waits for it.
#[derive(Debug, Default)]
pub(super) struct Gates {
    gates: Mutex<HashMap<String, Weak<AsyncMutex<()>>>>,
}

impl Gates {
    /// Waits for the gate of `key`; it stays closed to others until the guard is dropped.
    pub async fn enter(&self, key: &str) -> OwnedMutexGuard<()> {
        let gate = {
            let mut gates = self.gates.lock().unwrap_or_else(PoisonError::into_inner);
            if gates.len() > PRUNE_ABOVE {
                gates.retain(|_, gate| gate.strong_count() > 0);
            }
            if let Some(gate) = gates.get(key).and_then(Weak::upgrade) {
                gate
            } else {
                let gate = Arc::new(AsyncMutex::new(()));
                gates.insert(key.to_owned(), Arc::downgrade(&gate));
                gate
            }
        };
        gate.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_key_at_a_time_and_other_keys_pass() {
        let gates = Arc::new(Gates::default());
        let held = gates.enter("a").await;
        // Another key is not held up.
        let other = tokio::time::timeout(std::time::Duration::from_secs(1), gates.enter("b"))
            .await
            .expect("another key enters at once");
        drop(other);
        // The same key waits until the guard is dropped.
        let waiting = {
            let gates = Arc::clone(&gates);
            tokio::spawn(async move { drop(gates.enter("a").await) })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "the second entry waits");
        drop(held);
        tokio::time::timeout(std::time::Duration::from_secs(1), waiting)
            .await
            .expect("it enters once the first leaves")
            .unwrap();
    }

    #[tokio::test]
    async fn gates_nobody_holds_are_pruned() {
        let gates = Gates::default();
        for i in 0..=PRUNE_ABOVE + 1 {
            drop(gates.enter(&i.to_string()).await);
        }
        let len = gates.gates.lock().unwrap().len();
        assert!(len <= PRUNE_ABOVE + 1, "{len}");
    }
}
