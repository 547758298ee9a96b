//! Créneau: the partner-side server of the Claims IA appointment protocol, for expert firms
//! and repairers.
//!
//! Dependencies point one way: [`http`] and [`jobs`] call the operations of [`service`],
//! which use [`store`] and [`engine`], which use [`domain`]. The [`engine`] is pure (no I/O)
//! so it can be benchmarked and property-tested on its own. Time comes from one [`clock`].
#![forbid(unsafe_code)]

pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod engine;
pub mod fetch;
pub mod http;
pub mod jobs;
pub mod loadtest;
pub mod metrics;
pub mod rate_limit;
pub mod scan;
pub mod service;
pub mod store;
pub mod synthetic;
pub mod telemetry;
pub mod wire;
