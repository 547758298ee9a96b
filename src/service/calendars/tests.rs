//! Unit tests of the calendar cache.

use super::*;

fn cached(cache: &CalendarCache) -> Vec<String> {
    let mut ids: Vec<_> = cache.write().entries.keys().cloned().collect();
    ids.sort();
    ids
}

#[test]
fn a_load_keeps_every_expert_but_those_changed_while_it_ran() {
    let cache = CalendarCache::new(Duration::from_secs(60), Clock::system());
    let now = Clock::system().now();
    let span = (now, now + chrono::Duration::days(1));
    let calendar = Arc::new(Calendar::default());
    cache.invalidate("before");
    let begun = cache.begin_load();
    cache.invalidate("during");
    let ids = ["before", "during", "untouched"];
    cache.keep(
        &begun,
        span,
        ids.into_iter().zip([&calendar, &calendar, &calendar]),
    );
    assert_eq!(cached(&cache), ["before", "untouched"]);
    // A later load keeps it; a change drops it again.
    let begun = cache.begin_load();
    cache.keep(&begun, span, [("during", &calendar)]);
    assert_eq!(cached(&cache), ["before", "during", "untouched"]);
    cache.invalidate("before");
    assert_eq!(cached(&cache), ["during", "untouched"]);
}

#[tokio::test]
async fn a_search_waits_for_calendars_another_is_reading_instead_of_reading_them_too() {
    let cache = CalendarCache::new(Duration::from_secs(60), Clock::system());
    let now = Clock::system().now();
    let span = (now, now + chrono::Duration::days(1));
    let calendar = Arc::new(Calendar::default());
    let ids = ["a", "b"];
    let (mine, waits, first) = cache.share_out(&ids, &[0]);
    assert_eq!((mine, waits.len()), (vec![0], 0));
    let (mine, waits, second) = cache.share_out(&ids, &[0, 1]);
    assert_eq!(mine, [1]);
    let [(0, mut waiting_for_a)] = <[_; 1]>::try_from(waits).unwrap() else {
        panic!("the second search should wait for \"a\"");
    };
    // The first search keeps what it read, then says so.
    let begun = cache.begin_load();
    cache.keep(&begun, span, [("a", &calendar)]);
    first.done();
    assert!(*waiting_for_a.wait_for(|done| *done).await.unwrap());
    assert!(cache.fresh("a", span.0, span.1).is_some());
    // A read abandoned (the search failed or went away): its waiters see the channel
    // closed and nobody is reading the calendar any more.
    let (mine, waits, _third) = cache.share_out(&ids, &[1]);
    assert!(mine.is_empty());
    drop(second);
    let (_, mut waiting_for_b) = waits.into_iter().next().unwrap();
    assert!(waiting_for_b.wait_for(|done| *done).await.is_err());
    let (mine, waits, _fourth) = cache.share_out(&ids, &[1]);
    assert_eq!((mine, waits.len()), (vec![1], 0));
}

#[test]
fn a_booking_through_this_instance_is_added_to_the_cached_calendar() {
    let cache = CalendarCache::new(Duration::from_secs(60), Clock::system());
    let now = Clock::system().now();
    let span = (now, now + chrono::Duration::days(1));
    let booked = Booked {
        start: now + chrono::Duration::hours(2),
        end: now + chrono::Duration::hours(3),
        place: None,
    };
    let begun = cache.begin_load();
    cache.keep(&begun, span, [("a", &Arc::new(Calendar::default()))]);
    let loaded = cache.write().entries["a"].loaded;
    // A load under way meanwhile read the calendar before the booking.
    let under_way = cache.begin_load();
    cache.booked("a", booked);
    let calendar = cache.fresh("a", span.0, span.1).expect("still cached");
    assert_eq!(calendar.appointments, [booked]);
    assert_eq!(
        cache.write().entries["a"].loaded,
        loaded,
        "it keeps its age"
    );
    cache.keep(&under_way, span, [("a", &Arc::new(Calendar::default()))]);
    assert_eq!(
        cache.fresh("a", span.0, span.1).unwrap().appointments,
        [booked],
        "the older copy is not kept"
    );
    // Added again (read since, or announced by another instance): not twice.
    cache.add_booked("a", booked);
    assert_eq!(
        cache.fresh("a", span.0, span.1).unwrap().appointments,
        [booked]
    );
    // An expert not cached stays so.
    cache.booked("b", booked);
    assert_eq!(cached(&cache), ["a"]);
}

#[test]
fn calendars_are_kept_longer_while_the_other_instances_are_heard() {
    let (sender, _changes) = tokio::sync::mpsc::unbounded_channel();
    let clock = Clock::manual(Clock::system().now());
    let cache = CalendarCache::new(Duration::from_secs(1), clock.clone())
        .announcing(sender.clone(), Duration::from_secs(10));
    let now = clock.now();
    let span = (now, now + chrono::Duration::days(1));
    let begun = cache.begin_load();
    cache.keep(&begun, span, [("a", &Arc::new(Calendar::default()))]);
    clock.advance(Duration::from_secs(5));
    assert!(cache.fresh("a", span.0, span.1).is_none(), "deaf: 1 s");
    // The flag alone (`hearing` would also drop the calendar).
    cache.hearing.store(true, Ordering::SeqCst);
    assert!(cache.fresh("a", span.0, span.1).is_some(), "heard: 10 s");
    cache.hearing.store(false, Ordering::SeqCst);
    assert!(
        cache.fresh("a", span.0, span.1).is_none(),
        "deaf again: 1 s"
    );
    // Never shorter than the time-to-live; no caching stays no caching.
    let longer = CalendarCache::new(Duration::from_secs(20), Clock::system())
        .announcing(sender.clone(), Duration::from_secs(10));
    assert_eq!(longer.heard_ttl, Duration::from_secs(20));
    let none = CalendarCache::new(Duration::ZERO, Clock::system())
        .announcing(sender, Duration::from_secs(10));
    assert_eq!(none.heard_ttl, Duration::ZERO);
}

#[test]
fn stamps_older_than_the_time_to_live_are_pruned() {
    let cache = CalendarCache::new(Duration::ZERO, Clock::system());
    for i in 0..=PRUNE_STAMPS_ABOVE + 1 {
        cache.invalidate(&format!("e{i}"));
    }
    assert!(cache.write().stamps.len() <= 2);
}
