//! The store contract, checked on every engine: each case is one test per engine, named
//! after it (`case::sqlite`, `case::postgres`), so a failure says which engine failed. The
//! PostgreSQL tests exist when the suite is built with `TEST_DATABASE_URL` set (see
//! `build.rs`), as `.ci/run` does.

/// One test per engine for each contract case named (an `async fn(TestDb)` of the module).
macro_rules! on_every_engine {
    ($($case:ident),+ $(,)?) => {
        $(on_every_engine!(@one [tokio::test] $case);)+
    };
    (multi_thread: $($case:ident),+ $(,)?) => {
        $(on_every_engine!(
            @one [tokio::test(flavor = "multi_thread", worker_threads = 2)] $case
        );)+
    };
    (@one [$($test:tt)+] $case:ident) => {
        mod $case {
            #[$($test)+]
            async fn sqlite() {
                super::$case(crate::helpers::sqlite_db()).await;
            }

            #[cfg(postgres_tests)]
            #[$($test)+]
            async fn postgres() {
                let db = crate::helpers::postgres_db().await;
                super::$case(db.expect("TEST_DATABASE_URL names a reachable server")).await;
            }
        }
    };
}

mod bookings;
mod catalog;
mod groups;
mod monitoring;
mod search_log;

use chrono::{TimeZone, Utc};
use creneau::domain::expert::ExpertProfile;
use creneau::domain::firm::{FirmProfile, NewAbsence};

use crate::helpers::expert_body;

pub fn firm_profile(name: &str) -> FirmProfile {
    FirmProfile::from_stored(name.into(), "73282932000074", "Europe/Paris").unwrap()
}

pub fn expert_profile(name: &str) -> ExpertProfile {
    serde_json::from_value(expert_body(name)).unwrap()
}

pub fn absence(day: u32) -> NewAbsence {
    NewAbsence {
        start: Utc.with_ymd_and_hms(2026, 12, day, 8, 0, 0).unwrap(),
        end: Utc.with_ymd_and_hms(2026, 12, day, 17, 0, 0).unwrap(),
        reason: Some("formation".into()),
    }
}
