-- Etape 3 (dossier and documents) and the webhook outbox (PostgreSQL).

-- The latest dossier of an appointment; each PUT replaces it and bumps `version`.
CREATE TABLE dossiers (
    appointment_id TEXT PRIMARY KEY REFERENCES appointments (id),
    version        BIGINT NOT NULL,
    body           TEXT NOT NULL,
    updated_at     BIGINT NOT NULL
);

-- Documents of an appointment: from a dossier URL (downloaded by the fetch worker, this
-- table being its persistent queue) or uploaded directly.
CREATE TABLE attachments (
    id              TEXT PRIMARY KEY,
    appointment_id  TEXT NOT NULL REFERENCES appointments (id),
    url             TEXT,
    position        BIGINT,
    name            TEXT,
    declared_type   TEXT,
    status          TEXT NOT NULL CHECK (status IN ('PENDING', 'STORED', 'FAILED', 'REJECTED')),
    reason          TEXT,
    detail          TEXT,
    content_type    TEXT,
    size            BIGINT,
    sha256          TEXT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    lease_owner     TEXT,
    lease_until     BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX attachments_one_per_url ON attachments (appointment_id, url)
    WHERE url IS NOT NULL;
CREATE INDEX attachments_by_appointment ON attachments (appointment_id, created_at);
CREATE INDEX attachments_queue ON attachments (next_attempt_at) WHERE status = 'PENDING';

-- Webhook endpoint of a protocol client, configured by the operator. The secret signs
-- deliveries (HMAC), so it is kept as is.
CREATE TABLE webhook_endpoints (
    client_id  TEXT PRIMARY KEY REFERENCES api_clients (id),
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Transactional outbox: one row per event to deliver, written with the event.
CREATE TABLE webhook_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    event_id        BIGINT NOT NULL REFERENCES events (id),
    client_id       TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_status     BIGINT,
    last_error      TEXT,
    delivered_at    BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (next_attempt_at)
    WHERE status = 'PENDING';
