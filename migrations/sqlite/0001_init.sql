-- Créneau schema v1 (SQLite). Instants are Unix milliseconds (INTEGER); JSON documents are TEXT.

CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE firms (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    siret      TEXT NOT NULL,
    time_zone  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE firm_credentials (
    client_id   TEXT PRIMARY KEY,
    firm_id     TEXT NOT NULL REFERENCES firms (id),
    secret_hash TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX firm_credentials_firm ON firm_credentials (firm_id);

CREATE TABLE api_clients (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    key_hash   BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE experts (
    id           TEXT PRIMARY KEY,
    firm_id      TEXT NOT NULL REFERENCES firms (id),
    active       INTEGER NOT NULL,
    partner_kind TEXT NOT NULL,
    profile      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX experts_firm ON experts (firm_id, id);

CREATE TABLE absences (
    id         TEXT PRIMARY KEY,
    firm_id    TEXT NOT NULL REFERENCES firms (id),
    expert_id  TEXT NOT NULL REFERENCES experts (id),
    start_at   INTEGER NOT NULL,
    end_at     INTEGER NOT NULL,
    reason     TEXT,
    created_at INTEGER NOT NULL,
    CHECK (start_at < end_at)
);
CREATE INDEX absences_expert ON absences (expert_id, start_at);
