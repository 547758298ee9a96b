//! JSON shapes shared by the API and the webhooks: what a client reads is what it is
//! pushed.

mod appointment;
pub mod diff;
mod event;
pub mod experts_csv;
mod settlement;

pub use appointment::{AppointmentView, ExpertRef, render};
pub use event::{EventView, FirmEventView};
pub use settlement::{SettlementDocumentView, SettlementList, SettlementView};
