-- Axis schema (PostgreSQL). Times are Unix milliseconds; ids and digests are BYTEAs.
CREATE TABLE agencies (
    agency_id       TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    parent_id       TEXT NOT NULL DEFAULT '',
    encryption_cert BYTEA NOT NULL,
    seal_cert       BYTEA NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- One row per accepted document. Written once, in the commit that logs its acceptance.
CREATE TABLE messages (
    message_id           BYTEA PRIMARY KEY,
    sender               TEXT NOT NULL,
    routing_header       BYTEA NOT NULL,
    submission_signature BYTEA NOT NULL,
    key_envelope         BYTEA NOT NULL,
    ciphertext_len       BIGINT NOT NULL,
    blob_id              BIGINT NOT NULL,
    accepted_at          BIGINT NOT NULL,
    leaf_index           BIGINT NOT NULL,
    entry                BYTEA NOT NULL,
    proof                BYTEA NOT NULL
);
CREATE INDEX messages_sender ON messages (sender);

-- Per-recipient delivery state: 0 queued, 1 acknowledged (01 logged), 2 withdrawn (15 to a 13).
-- seq is the acceptance's leaf index: assigned under the log lock, so it grows in commit order
-- and a subscriber resuming after a cursor never skips a later commit.
CREATE TABLE deliveries (
    message_id BYTEA NOT NULL,
    recipient  TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    state      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (message_id, recipient)
);
CREATE INDEX deliveries_inbox ON deliveries (recipient, seq);

-- Receipts and statuses, one chain per (message, recipient), in order.
CREATE TABLE statements (
    message_id  BYTEA NOT NULL,
    recipient   TEXT NOT NULL,
    position    BIGINT NOT NULL,
    status      BIGINT NOT NULL,
    statement   BYTEA NOT NULL,
    signature   BYTEA NOT NULL,
    hash        BYTEA NOT NULL,
    logged_at   BIGINT NOT NULL,
    leaf_index  BIGINT NOT NULL,
    entry       BYTEA NOT NULL,
    proof       BYTEA NOT NULL,
    PRIMARY KEY (message_id, recipient, position)
);
CREATE UNIQUE INDEX statements_hash ON statements (hash);

-- Ciphertext, in segments of at most 1 MiB. A blob is visible once a message row names it;
-- uploads in progress are listed in uploads and removed when committed or abandoned.
CREATE TABLE segments (
    blob_id BIGINT NOT NULL,
    seq     BIGINT NOT NULL,
    data    BYTEA NOT NULL,
    PRIMARY KEY (blob_id, seq)
);
CREATE TABLE uploads (
    blob_id    BIGINT PRIMARY KEY,
    started_at BIGINT NOT NULL
);

-- The Merkle log (RFC 9162): every leaf, complete nodes at levels 8, 16, 24, ... (one row per
-- 256 leaves below), the right edge of the tree, and every signed tree head.
CREATE TABLE log_leaves (
    leaf_index BIGINT PRIMARY KEY,
    leaf_hash  BYTEA NOT NULL,
    entry      BYTEA NOT NULL
);
CREATE INDEX log_leaves_hash ON log_leaves (leaf_hash);
CREATE TABLE log_nodes (
    level      BIGINT NOT NULL,
    node_index BIGINT NOT NULL,
    hash       BYTEA NOT NULL,
    PRIMARY KEY (level, node_index)
);
CREATE TABLE log_state (
    id        BIGINT PRIMARY KEY CHECK (id = 1),
    tree_size BIGINT NOT NULL,
    frontier  BYTEA NOT NULL
);
INSERT INTO log_state (id, tree_size, frontier) VALUES (1, 0, '\x0000000000000000'::bytea);
CREATE TABLE tree_heads (
    tree_size BIGINT PRIMARY KEY,
    tree_head BYTEA NOT NULL,
    signature BYTEA NOT NULL,
    signed_at BIGINT NOT NULL
);

-- CRLs published by the operator; the newest per issuer is in force.
CREATE TABLE crls (
    issuer       BYTEA NOT NULL,
    number       BIGINT NOT NULL,
    der          BYTEA NOT NULL,
    published_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, number)
);

-- Ciphertext is incompressible: store it out of line without trying pglz on every segment.
ALTER TABLE segments ALTER COLUMN data SET STORAGE EXTERNAL;
