-- The search log: every slot search, without personal data (no address line, no
-- coordinates), written behind the searches in batches and deleted after the retention
-- period. A booking records the search its slot came from.

CREATE TABLE search_log (
    id               TEXT PRIMARY KEY,
    at               BIGINT NOT NULL,
    -- The request without address lines, coordinates or process (JSON).
    request          TEXT NOT NULL,
    process          TEXT,
    -- Of the place's postal code; NULL when the request named no place.
    department       TEXT,
    claim_type       TEXT NOT NULL,
    eligible_experts BIGINT NOT NULL,
    slots_offered    BIGINT NOT NULL,
    first_slot_at    BIGINT,
    diagnostic       TEXT
);
CREATE INDEX search_log_by_time ON search_log (at);

-- One row per firm with an eligible expert in a search: what that firm was offered. Firms
-- read the log through it, so a firm never reaches a search none of its experts could take.
CREATE TABLE search_log_firms (
    search_id        TEXT NOT NULL REFERENCES search_log (id) ON DELETE CASCADE,
    firm_id          TEXT NOT NULL REFERENCES firms (id),
    at               BIGINT NOT NULL,
    eligible_experts BIGINT NOT NULL,
    slots_offered    BIGINT NOT NULL,
    first_slot_at    BIGINT,
    PRIMARY KEY (search_id, firm_id)
);
CREATE INDEX search_log_firms_by_firm ON search_log_firms (firm_id, at, search_id);

-- Not a foreign key: the search may have been deleted by the retention, or never logged
-- (the log off, or its queue full).
ALTER TABLE appointments ADD COLUMN search_id TEXT;
CREATE INDEX appointments_by_search ON appointments (search_id) WHERE search_id IS NOT NULL;
