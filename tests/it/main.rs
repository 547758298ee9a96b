//! The one integration test binary: real HTTP over a real socket, a real database per test.

mod admin;
mod auth;
mod calendar;
mod changes;
#[cfg(clamd_tests)]
mod clamd;
mod cli;
mod concurrency;
mod connections;
mod documents;
mod engine;
mod errors;
mod events;
mod firm_feed;
mod firm_webhooks;
mod helpers;
mod imports;
mod loadtest;
mod metrics;
mod openapi;
mod protocol;
mod rate_limits;
#[cfg(clamd_tests)]
mod scanned_uploads;
mod scanner_down;
#[cfg(clamd_tests)]
mod scanning;
mod search_log;
mod settlements;
mod store_contract;
mod tenancy;
mod webhooks;
