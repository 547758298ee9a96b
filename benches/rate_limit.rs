//! Criterion benchmark of the per-client rate limiter, the check every authenticated request
//! pays: `cargo bench --bench rate_limit` (add `-- --warm-up-time 1 --measurement-time 3`
//! for a quick run).
//!
//! - `check/one_client`: the same key again and again (Claims IA's one API key);
//! - `check/10000_firms`: keys taken in turn from 10,000 (many firms at once).

use std::hint::black_box;
use std::num::NonZeroU32;

use creneau::clock::Clock;
use creneau::rate_limit::{Quota, RateLimiter};
use criterion::{Criterion, criterion_group, criterion_main};

fn limiter() -> RateLimiter {
    let burst = NonZeroU32::new(u32::MAX).expect("non-zero");
    RateLimiter::new(
        Quota::new(u32::MAX, burst).expect("a positive rate"),
        Clock::system(),
    )
}

fn check(c: &mut Criterion) {
    let mut group = c.benchmark_group("check");
    let one = limiter();
    group.bench_function("one_client", |b| {
        b.iter(|| black_box(one.check(black_box("cia_3d78ec8282d96f97"))));
    });
    let many = limiter();
    let firms: Vec<String> = (0..10_000).map(|i| format!("firm-{i:05}")).collect();
    let mut next = 0;
    group.bench_function("10000_firms", |b| {
        b.iter(|| {
            next = (next + 1) % firms.len();
            black_box(many.check(black_box(&firms[next])))
        });
    });
    group.finish();
}

criterion_group!(benches, check);
criterion_main!(benches);
