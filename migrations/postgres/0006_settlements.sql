-- Pre-uploaded files and settlements (report and fee note, or invoice).

-- A file a firm uploaded, scanned, to be referenced by a settlement (or an import). The
-- key is the only handle; the bytes are the blob named by sha256. An upload no settlement
-- took by expires_at is deleted by the sweeper.
CREATE TABLE uploads (
    upload_key   TEXT PRIMARY KEY,
    firm_id      TEXT NOT NULL REFERENCES firms (id),
    name         TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('VERIFIED', 'UNSCANNED')),
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_by      TEXT
);
CREATE INDEX uploads_expiry ON uploads (expires_at) WHERE used_by IS NULL;
CREATE INDEX uploads_by_sha256 ON uploads (sha256);

-- A settlement request filed by a firm on a COMPLETED appointment; body holds the
-- validated request (amounts in cents).
CREATE TABLE settlements (
    id             TEXT PRIMARY KEY,
    firm_id        TEXT NOT NULL REFERENCES firms (id),
    appointment_id TEXT NOT NULL REFERENCES appointments (id),
    type           TEXT NOT NULL CHECK (type IN ('INVOICE', 'CREDIT_NOTE')),
    reference      TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('SUBMITTED')),
    body           TEXT NOT NULL,
    submitted_at   BIGINT NOT NULL,
    CONSTRAINT settlements_one_per_reference UNIQUE (firm_id, type, reference)
);
CREATE INDEX settlements_by_appointment ON settlements (appointment_id, id);

-- The documents of a settlement: uploads it took.
CREATE TABLE settlement_documents (
    settlement_id TEXT NOT NULL REFERENCES settlements (id),
    kind          TEXT NOT NULL CHECK (kind IN ('REPORT', 'FEE_NOTE', 'INVOICE')),
    upload_key    TEXT NOT NULL UNIQUE REFERENCES uploads (upload_key),
    PRIMARY KEY (settlement_id, kind)
);
