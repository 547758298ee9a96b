//! The one task that writes the queued entries.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot};

use super::{BATCH, Drops};
use crate::store::{LoggedSearch, Store};

/// What the searches' side asks of the writer.
pub(super) enum Control {
    /// Write everything queued, then answer.
    Flush(oneshot::Sender<()>),
    /// Write everything queued, answer, and stop.
    Close(oneshot::Sender<()>),
}

/// What the writer does after the batch in hand.
enum Next {
    /// Go on.
    Write,
    /// Write the whole queue and answer.
    Flush(oneshot::Sender<()>),
    /// Write the whole queue, answer (if anyone asks) and stop.
    Close(Option<oneshot::Sender<()>>),
}

impl Next {
    fn from(command: Option<Control>) -> Self {
        match command {
            Some(Control::Flush(done)) => Self::Flush(done),
            Some(Control::Close(done)) => Self::Close(Some(done)),
            // The handle is gone: nothing more will come.
            None => Self::Close(None),
        }
    }
}

pub(super) struct Writer {
    pub entries: mpsc::Receiver<LoggedSearch>,
    pub control: mpsc::Receiver<Control>,
    pub store: Arc<dyn Store>,
    pub wake: Arc<Notify>,
    /// How long a batch waits for more entries.
    pub linger: Duration,
    /// Queued entries that make a batch ready.
    pub ready: usize,
    pub drops: Arc<Drops>,
}

impl Writer {
    /// Writes batches until closed: a batch starts with the first entry queued and takes
    /// the ones that arrive within `linger`, unless the queue holds a batch's worth first.
    pub async fn run(mut self) {
        loop {
            let mut batch = Vec::with_capacity(BATCH);
            let next = tokio::select! {
                biased;
                command = self.control.recv() => Next::from(command),
                received = self.entries.recv_many(&mut batch, BATCH) => {
                    if received == 0 { Next::Close(None) } else { Next::Write }
                }
            };
            let next = match next {
                Next::Write if batch.len() + self.entries.len() < self.ready => self.linger().await,
                next => next,
            };
            self.top_up(&mut batch);
            let written = self.write(&batch).await;
            match next {
                Next::Write => self.drops.report_if_due(),
                Next::Flush(done) => {
                    self.write_queued().await;
                    self.drops.report_if_due();
                    let _ = done.send(());
                }
                Next::Close(done) => {
                    let written = written + self.write_queued().await;
                    self.drops.report();
                    tracing::info!(searches = written, "search log written out and closed");
                    if let Some(done) = done {
                        let _ = done.send(());
                    }
                    return;
                }
            }
        }
    }

    /// Waits for more entries: until `linger` has passed, a batch is ready, or a command
    /// comes.
    async fn linger(&mut self) -> Next {
        tokio::select! {
            biased;
            command = self.control.recv() => Next::from(command),
            () = self.wake.notified() => Next::Write,
            () = tokio::time::sleep(self.linger) => Next::Write,
        }
    }

    /// Adds queued entries to `batch`, up to a batch's size.
    fn top_up(&mut self, batch: &mut Vec<LoggedSearch>) {
        while batch.len() < BATCH {
            match self.entries.try_recv() {
                Ok(entry) => batch.push(entry),
                Err(_) => break,
            }
        }
    }

    /// Writes every entry queued now; how many were written.
    async fn write_queued(&mut self) -> usize {
        let mut written = 0;
        loop {
            let mut batch = Vec::with_capacity(BATCH.min(self.entries.len()));
            self.top_up(&mut batch);
            if batch.is_empty() {
                return written;
            }
            written += self.write(&batch).await;
        }
    }

    /// Writes a batch; how many entries were written (none when it failed).
    async fn write(&self, batch: &[LoggedSearch]) -> usize {
        if batch.is_empty() {
            return 0;
        }
        match self.store.log_searches(batch).await {
            Ok(()) => batch.len(),
            Err(err) => {
                tracing::error!(
                    error = %err,
                    searches = batch.len(),
                    "search log entries lost: they could not be written"
                );
                0
            }
        }
    }
}
