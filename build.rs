//! Tests that need a service of the machine are compiled only when the suite is built for
//! it, so that a plain `cargo test` on a machine without them runs every test it has:
//! the store contract's PostgreSQL tests with `TEST_DATABASE_URL` set, the virus-scanning
//! tests against a real ClamAV daemon with `TEST_CLAMD` set (as `.ci/run` does both).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    if std::env::var_os("TEST_DATABASE_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    }
    println!("cargo::rustc-check-cfg=cfg(clamd_tests)");
    println!("cargo::rerun-if-env-changed=TEST_CLAMD");
    if std::env::var_os("TEST_CLAMD").is_some_and(|flag| !flag.is_empty()) {
        println!("cargo::rustc-cfg=clamd_tests");
    }
}
