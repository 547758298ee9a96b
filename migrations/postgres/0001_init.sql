-- Créneau schema v1 (PostgreSQL). Instants are Unix milliseconds (BIGINT) so that both engines
-- share one set of queries; JSON documents are TEXT for the same reason.

CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE firms (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    siret      TEXT NOT NULL,
    time_zone  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE firm_credentials (
    client_id   TEXT PRIMARY KEY,
    firm_id     TEXT NOT NULL REFERENCES firms (id),
    secret_hash TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX firm_credentials_firm ON firm_credentials (firm_id);

CREATE TABLE api_clients (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    key_hash   BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE experts (
    id           TEXT PRIMARY KEY,
    firm_id      TEXT NOT NULL REFERENCES firms (id),
    active       BIGINT NOT NULL,
    partner_kind TEXT NOT NULL,
    profile      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX experts_firm ON experts (firm_id, id);

CREATE TABLE absences (
    id         TEXT PRIMARY KEY,
    firm_id    TEXT NOT NULL REFERENCES firms (id),
    expert_id  TEXT NOT NULL REFERENCES experts (id),
    start_at   BIGINT NOT NULL,
    end_at     BIGINT NOT NULL,
    reason     TEXT,
    created_at BIGINT NOT NULL,
    CHECK (start_at < end_at)
);
CREATE INDEX absences_expert ON absences (expert_id, start_at);
