//! The search log, written behind the searches: a search hands its entry to a bounded
//! in-memory queue without waiting, and one writer task inserts the queued entries in
//! batches, one transaction each. When the queue is full the entry is dropped and
//! counted; the count is logged in a warning at most every few seconds. The queue is
//! written out on [`SearchLog::flush`] and at shutdown ([`SearchLog::close`]).

mod entry;
mod reads;
mod writer;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

pub(super) use entry::{Found, logged_search};
pub use reads::{DemandItem, DemandView, MAX_PERIOD_DAYS, SearchView};

use crate::clock::Clock;
use crate::config::SearchLogArgs;
use crate::store::{LoggedSearch, Store};
use writer::{Control, Writer};

/// Most searches written by one statement (and one transaction).
const BATCH: usize = 1000;

/// Shortest time between two warnings about dropped entries, in milliseconds.
const REPORT_EVERY_MS: u64 = 5000;

/// The handle searches log through.
pub struct SearchLog {
    /// `None` when the log is off.
    queue: Option<Queue>,
    drops: Arc<Drops>,
}

struct Queue {
    entries: mpsc::Sender<LoggedSearch>,
    control: mpsc::Sender<Control>,
    /// Tells the writer a batch is ready, so it stops waiting for more.
    wake: Arc<Notify>,
    /// Queued entries that make a batch ready.
    ready: usize,
    writer: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl SearchLog {
    /// Starts the writer on `store` (a Tokio runtime is needed), unless the log is off.
    pub fn start(store: Arc<dyn Store>, args: &SearchLogArgs, clock: Clock) -> Self {
        let drops = Arc::new(Drops::new(clock));
        if !args.enabled() {
            return Self { queue: None, drops };
        }
        let capacity = usize::try_from(args.search_log_queue)
            .unwrap_or(BATCH)
            .max(1);
        let ready = BATCH.min(capacity / 2).max(1);
        let (entries, queued) = mpsc::channel(capacity);
        let (control, commands) = mpsc::channel(4);
        let wake = Arc::new(Notify::new());
        let writer = Writer {
            entries: queued,
            control: commands,
            store,
            wake: Arc::clone(&wake),
            linger: args.flush_every(),
            ready,
            drops: Arc::clone(&drops),
        };
        let handle = tokio::spawn(writer.run());
        Self {
            queue: Some(Queue {
                entries,
                control,
                wake,
                ready,
                writer: std::sync::Mutex::new(Some(handle)),
            }),
            drops,
        }
    }

    /// Whether searches are logged.
    pub fn is_on(&self) -> bool {
        self.queue.is_some()
    }

    /// Queues an entry, never waiting: with the queue full, the entry is dropped and
    /// counted.
    pub fn record(&self, entry: LoggedSearch) {
        let Some(queue) = &self.queue else {
            return;
        };
        match queue.entries.try_send(entry) {
            Ok(()) => {
                let queued = queue.entries.max_capacity() - queue.entries.capacity();
                if queued >= queue.ready {
                    queue.wake.notify_one();
                }
            }
            Err(mpsc::error::TrySendError::Full(_)) => self.drops.one(),
            // Closed: the server is stopping, and the log with it.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Returns once every entry queued before the call is written (or failed to be).
    pub async fn flush(&self) {
        self.command(Control::Flush).await;
    }

    /// Writes what is queued and stops the writer; later entries are not logged.
    pub async fn close(&self) {
        self.command(Control::Close).await;
        let handle = self
            .queue
            .as_ref()
            .and_then(|q| q.writer.lock().ok().and_then(|mut h| h.take()));
        if let Some(handle) = handle {
            let _ = handle.await;
        }
    }

    /// Entries dropped because the queue was full, since the start.
    pub fn dropped(&self) -> u64 {
        self.drops.total.load(Ordering::Relaxed)
    }

    async fn command(&self, command: fn(oneshot::Sender<()>) -> Control) {
        let Some(queue) = &self.queue else {
            return;
        };
        let (done, written) = oneshot::channel();
        if queue.control.send(command(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

/// Entries dropped, and when that was last reported.
struct Drops {
    total: AtomicU64,
    unreported: AtomicU64,
    /// [`Clock::elapsed`] of the last warning, in milliseconds; `u64::MAX` before the first.
    reported_at: AtomicU64,
    clock: Clock,
}

impl Drops {
    fn new(clock: Clock) -> Self {
        Self {
            total: AtomicU64::new(0),
            unreported: AtomicU64::new(0),
            reported_at: AtomicU64::new(u64::MAX),
            clock,
        }
    }

    /// Counts a dropped entry.
    fn one(&self) {
        self.total.fetch_add(1, Ordering::Relaxed);
        self.unreported.fetch_add(1, Ordering::Relaxed);
        self.report_if_due();
    }

    /// Logs the drops not reported yet, unless the last warning is too recent.
    fn report_if_due(&self) {
        if self.unreported.load(Ordering::Relaxed) == 0 {
            return;
        }
        let now = u64::try_from(self.clock.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        let last = self.reported_at.load(Ordering::Relaxed);
        if last != u64::MAX && now.saturating_sub(last) < REPORT_EVERY_MS {
            return;
        }
        // One caller reports; the others find the time taken.
        if self
            .reported_at
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            self.report();
        }
    }

    /// Logs the drops not reported yet.
    fn report(&self) {
        let dropped = self.unreported.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(
                dropped,
                total = self.total.load(Ordering::Relaxed),
                "search log queue full: searches answered but not logged"
            );
        }
    }
}
