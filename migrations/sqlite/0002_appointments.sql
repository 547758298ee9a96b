-- Appointments, idempotency keys, events, and the catalogue version (SQLite).

-- Bumped in the same transaction as every expert or firm change, so servers know when
-- their in-memory directory of experts is stale.
CREATE TABLE catalog_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);

CREATE TABLE appointments (
    id             TEXT PRIMARY KEY,
    firm_id        TEXT NOT NULL REFERENCES firms (id),
    expert_id      TEXT NOT NULL REFERENCES experts (id),
    client_id      TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('CONFIRMED', 'CANCELLED', 'COMPLETED')),
    version        INTEGER NOT NULL,
    start_at       INTEGER NOT NULL,
    end_at         INTEGER NOT NULL,
    mode           TEXT NOT NULL,
    expertise_type TEXT NOT NULL,
    place          TEXT,
    lat            REAL,
    lon            REAL,
    claims_ia_ref  TEXT NOT NULL,
    claim_ref      TEXT,
    contact        TEXT,
    comment        TEXT,
    cancellation   TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CHECK (start_at < end_at)
);
CREATE INDEX appointments_expert_time ON appointments (expert_id, start_at);
CREATE INDEX appointments_firm_time ON appointments (firm_id, start_at);
CREATE INDEX appointments_client_ref ON appointments (client_id, claims_ia_ref);
CREATE UNIQUE INDEX appointments_one_confirmed_per_ref
    ON appointments (claims_ia_ref) WHERE status = 'CONFIRMED';

-- Two overlapping CONFIRMED appointments of one expert can never exist: the database
-- refuses them whatever the application does.
CREATE TRIGGER appointments_no_overlap_insert
BEFORE INSERT ON appointments
WHEN NEW.status = 'CONFIRMED'
BEGIN
    SELECT RAISE(ABORT, 'appointments_no_overlap')
    WHERE EXISTS (
        SELECT 1 FROM appointments
        WHERE expert_id = NEW.expert_id AND status = 'CONFIRMED'
          AND start_at < NEW.end_at AND NEW.start_at < end_at
    );
END;

CREATE TRIGGER appointments_no_overlap_update
BEFORE UPDATE OF status, expert_id, start_at, end_at ON appointments
WHEN NEW.status = 'CONFIRMED'
BEGIN
    SELECT RAISE(ABORT, 'appointments_no_overlap')
    WHERE EXISTS (
        SELECT 1 FROM appointments
        WHERE id <> NEW.id AND expert_id = NEW.expert_id AND status = 'CONFIRMED'
          AND start_at < NEW.end_at AND NEW.start_at < end_at
    );
END;

CREATE TABLE idempotency_keys (
    client_id     TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        INTEGER,
    response      TEXT,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (client_id, key)
);

CREATE TABLE events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    type           TEXT NOT NULL,
    appointment_id TEXT NOT NULL,
    data           TEXT NOT NULL,
    occurred_at    INTEGER NOT NULL
);
