//! Créneau: the partner-side server of the Claims IA appointment protocol, for expert firms
//! and repairers.
//!
//! Dependencies point one way: [`http`] and [`jobs`] use [`store`] and [`engine`], which use
//! [`domain`]. The [`engine`] is pure (no I/O) so it can be benchmarked and property-tested
//! on its own.
#![forbid(unsafe_code)]

pub mod auth;
pub mod cli;
pub mod config;
pub mod domain;
pub mod engine;
pub mod fetch;
pub mod http;
pub mod jobs;
pub mod loadtest;
pub mod store;
pub mod synthetic;
pub mod telemetry;
