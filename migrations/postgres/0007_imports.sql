-- Experts' own identifiers in their firm, and bulk imports of experts and absences.

ALTER TABLE experts ADD COLUMN external_ref TEXT;
CREATE UNIQUE INDEX experts_external_ref ON experts (firm_id, external_ref)
    WHERE external_ref IS NOT NULL;

-- An import and its progress; a row not yet finished is also the worker's queue entry,
-- claimed under a lease so that a crashed worker's import is taken over.
CREATE TABLE imports (
    id              TEXT PRIMARY KEY,
    firm_id         TEXT NOT NULL REFERENCES firms (id),
    kind            TEXT NOT NULL CHECK (kind IN ('EXPERTS', 'ABSENCES')),
    source          TEXT NOT NULL CHECK (source IN ('UPLOAD', 'URL', 'URI')),
    url             TEXT,
    sha256          TEXT,
    dry_run         BIGINT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('RECEIVED', 'FETCHING', 'VALIDATING',
                        'IMPORTING', 'VALIDATED', 'IMPORTED', 'FAILED')),
    reason          TEXT,
    records         BIGINT,
    created         BIGINT,
    updated         BIGINT,
    unchanged       BIGINT,
    errors          TEXT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    lease_owner     TEXT,
    lease_until     BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    finished_at     BIGINT
);
CREATE INDEX imports_by_firm ON imports (firm_id, id);
CREATE INDEX imports_queue ON imports (next_attempt_at) WHERE finished_at IS NULL;

-- Firm events as their transactions write them, in any order; a sequencer moves them,
-- under one lock and in batches, into firm_events, whose ids are then committed in order.
CREATE TABLE firm_event_queue (
    id             BIGSERIAL PRIMARY KEY,
    firm_id        TEXT NOT NULL,
    type           TEXT NOT NULL,
    appointment_id TEXT,
    import_id      TEXT,
    data           TEXT NOT NULL,
    changes        TEXT NOT NULL DEFAULT '[]',
    occurred_at    BIGINT NOT NULL
);

-- The firm's own event feed (`GET /admin/v1/events`): what it did not do itself.
CREATE TABLE firm_events (
    id             BIGSERIAL PRIMARY KEY,
    firm_id        TEXT NOT NULL REFERENCES firms (id),
    type           TEXT NOT NULL,
    appointment_id TEXT,
    import_id      TEXT,
    data           TEXT NOT NULL,
    changes        TEXT NOT NULL DEFAULT '[]',
    occurred_at    BIGINT NOT NULL
);
CREATE INDEX firm_events_by_firm ON firm_events (firm_id, id);
CREATE INDEX firm_events_by_appointment ON firm_events (appointment_id, id)
    WHERE appointment_id IS NOT NULL;

-- How far a firm validated the changes of each of its appointments: through this
-- firm_events id.
CREATE TABLE validations (
    appointment_id    TEXT PRIMARY KEY REFERENCES appointments (id),
    firm_id           TEXT NOT NULL REFERENCES firms (id),
    validated_through BIGINT NOT NULL,
    validated_at      BIGINT NOT NULL
);

-- A firm's own webhook endpoint; the secret signs deliveries, so it is kept as is.
CREATE TABLE firm_webhooks (
    firm_id    TEXT PRIMARY KEY REFERENCES firms (id),
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- The firms' outbox: one row per firm event to deliver, written with the event.
CREATE TABLE firm_webhook_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    firm_event_id   BIGINT NOT NULL REFERENCES firm_events (id),
    firm_id         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_status     BIGINT,
    last_error      TEXT,
    attempted_at    BIGINT,
    delivered_at    BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX firm_webhook_deliveries_queue ON firm_webhook_deliveries (next_attempt_at)
    WHERE status = 'PENDING';
CREATE INDEX firm_webhook_deliveries_by_firm ON firm_webhook_deliveries (firm_id, id);
