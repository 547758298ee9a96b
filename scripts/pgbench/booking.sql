-- The SQL of one booking with a new Idempotency-Key, as Créneau's booking transaction sends
-- it on PostgreSQL (src/store/sql/booking.rs and idempotency.rs), for pgbench: the rate
-- PostgreSQL alone sustains for it on this machine, with no Créneau server in the way.
-- Run by scripts/load-runs.sh on a database seeded by `creneau seed`, with
--   -D firm=<the firm's id> -D client=<a Claims IA client id>
-- and a helper table bench_experts (n, id) numbering the experts from 1 to :experts.
-- Each booking is one hour, on a random expert, at a random hour far in the future (so
-- bookings seldom collide); the answer stored under the key is a typical 201 body's size.
\set e random(1, :experts)
\set n random(1, 1000000000)
\set start 2000000000000 + :n * 3600000
SELECT id AS expert FROM bench_experts WHERE n = :e \gset
BEGIN;
INSERT INTO idempotency_keys (client_id, key, request_hash, status, response, created_at)
    VALUES (:client, 'bench-' || :n || '-' || :e, repeat('f', 64), 201, repeat('r', 700), 1)
    ON CONFLICT (client_id, key) DO UPDATE SET request_hash = excluded.request_hash,
        status = excluded.status, response = excluded.response, created_at = excluded.created_at
    WHERE idempotency_keys.created_at < 0;
SELECT id, firm_id, profile, created_at, updated_at FROM experts
    WHERE id = :expert AND firm_id = :firm FOR UPDATE;
SELECT id, expert_id, start_at, end_at, reason, created_at FROM absences
    WHERE expert_id = :expert AND end_at > :start::bigint - 691200000
        AND start_at < :start::bigint + 691200000 ORDER BY start_at;
SELECT id, start_at, end_at, lat, lon FROM appointments
    WHERE expert_id = :expert AND status = 'CONFIRMED' AND end_at > :start::bigint - 691200000
        AND start_at < :start::bigint + 691200000 ORDER BY start_at;
INSERT INTO appointments (id, firm_id, expert_id, client_id, status, version, start_at, end_at,
        mode, expertise_type, place, claims_ia_ref, claim_ref, contact, comment, cancellation,
        created_at, updated_at, lat, lon)
    VALUES ('bench-' || :n || '-' || :e, :firm, :expert, :client, 'CONFIRMED', 1, :start,
        :start::bigint + 3600000, 'REMOTE', 'VISIO', NULL, 'bench-' || :n || '-' || :e, NULL,
        '{"name":"A. Martin"}', NULL, NULL, 1, 1, NULL, NULL);
COMMIT;
