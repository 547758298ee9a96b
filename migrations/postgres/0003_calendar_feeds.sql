-- Secret calendar feed URLs, one per expert; only a hash of the token is kept.
CREATE TABLE calendar_feeds (
    expert_id  TEXT PRIMARY KEY REFERENCES experts (id),
    firm_id    TEXT NOT NULL REFERENCES firms (id),
    token_hash BYTEA NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
