-- Appointments, idempotency keys, events, and the catalogue version (PostgreSQL).

CREATE EXTENSION IF NOT EXISTS btree_gist;

-- Bumped in the same transaction as every expert or firm change, so servers know when
-- their in-memory directory of experts is stale.
CREATE TABLE catalog_version (
    id      BIGINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);

CREATE TABLE appointments (
    id             TEXT PRIMARY KEY,
    firm_id        TEXT NOT NULL REFERENCES firms (id),
    expert_id      TEXT NOT NULL REFERENCES experts (id),
    client_id      TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('CONFIRMED', 'CANCELLED', 'COMPLETED')),
    version        BIGINT NOT NULL,
    start_at       BIGINT NOT NULL,
    end_at         BIGINT NOT NULL,
    mode           TEXT NOT NULL,
    expertise_type TEXT NOT NULL,
    place          TEXT,
    lat            DOUBLE PRECISION,
    lon            DOUBLE PRECISION,
    claims_ia_ref  TEXT NOT NULL,
    claim_ref      TEXT,
    contact        TEXT,
    comment        TEXT,
    cancellation   TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    CHECK (start_at < end_at),
    -- Two overlapping CONFIRMED appointments of one expert can never exist.
    CONSTRAINT appointments_no_overlap EXCLUDE USING gist (
        expert_id WITH =, int8range(start_at, end_at) WITH &&
    ) WHERE (status = 'CONFIRMED')
);
CREATE INDEX appointments_expert_time ON appointments (expert_id, start_at);
CREATE INDEX appointments_firm_time ON appointments (firm_id, start_at);
CREATE INDEX appointments_client_ref ON appointments (client_id, claims_ia_ref);
CREATE UNIQUE INDEX appointments_one_confirmed_per_ref
    ON appointments (claims_ia_ref) WHERE status = 'CONFIRMED';

CREATE TABLE idempotency_keys (
    client_id     TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        BIGINT,
    response      TEXT,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (client_id, key)
);

CREATE TABLE events (
    id             BIGSERIAL PRIMARY KEY,
    type           TEXT NOT NULL,
    appointment_id TEXT NOT NULL,
    data           TEXT NOT NULL,
    occurred_at    BIGINT NOT NULL
);
