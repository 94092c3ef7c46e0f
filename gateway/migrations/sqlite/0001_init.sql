-- What the DMSs hand over: documents (sealed once, the sealed bytes kept until the axis accepts
-- them) and statuses (sent until the axis logs them).
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    system_id TEXT NOT NULL,
    request_sha256 BLOB NOT NULL,
    message_id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    parties TEXT NOT NULL,
    code TEXT NOT NULL,
    subject TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    error_reason TEXT,
    error_message TEXT,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    next_try_ms INTEGER NOT NULL,
    routing_header BLOB,
    submission_signature BLOB,
    key_envelope BLOB,
    ciphertext_file TEXT,
    package BLOB,
    leaf_index INTEGER,
    accepted_ms INTEGER,
    UNIQUE (system_id, kind, request_sha256)
);
CREATE INDEX outbox_due ON outbox (state, next_try_ms);
CREATE INDEX outbox_document ON outbox (document_id);

-- Documents received, opened, verified and kept.
CREATE TABLE received (
    message_id TEXT PRIMARY KEY,
    sender TEXT NOT NULL,
    document_id TEXT NOT NULL,
    code TEXT NOT NULL,
    subject TEXT NOT NULL,
    accepted_ms INTEGER NOT NULL,
    stored_ms INTEGER NOT NULL,
    report TEXT NOT NULL,
    ack_state TEXT NOT NULL,
    ack_error TEXT
);
CREATE INDEX received_document ON received (document_id);

-- What the DMSs collect: received documents and statuses, with the DMS's transport
-- acknowledgement (initial, done, fail).
CREATE TABLE mailbox (
    id TEXT PRIMARY KEY,
    dedupe TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    message_id TEXT NOT NULL,
    from_agency TEXT NOT NULL,
    to_agency TEXT NOT NULL,
    document_id TEXT NOT NULL,
    status_code TEXT,
    package BLOB,
    state TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE INDEX mailbox_kind ON mailbox (kind, state, created_ms);

-- Documents whose statuses are followed, and when to read them next.
CREATE TABLE watch (
    message_id TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    next_ms INTEGER NOT NULL,
    interval_ms INTEGER NOT NULL,
    until_ms INTEGER NOT NULL
);
CREATE INDEX watch_due ON watch (next_ms);

-- Small state: the inbox cursor, the last tree head kept by the witness.
CREATE TABLE kv (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
