//! The store contract's PostgreSQL tests are compiled when the suite is built with
//! `TEST_DATABASE_URL` set (as `.ci/run` does), so that a plain `cargo test` on a machine
//! without PostgreSQL runs every test it has, and the PostgreSQL run has one test per case.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    if std::env::var_os("TEST_DATABASE_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    }
}
