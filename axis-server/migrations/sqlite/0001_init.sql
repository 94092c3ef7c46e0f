-- Axis schema (SQLite). Times are Unix milliseconds; ids and digests are BLOBs.
CREATE TABLE agencies (
    agency_id       TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    parent_id       TEXT NOT NULL DEFAULT '',
    encryption_cert BLOB NOT NULL,
    seal_cert       BLOB NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- One row per accepted document. Written once, in the commit that logs its acceptance.
CREATE TABLE messages (
    message_id           BLOB PRIMARY KEY,
    sender               TEXT NOT NULL,
    routing_header       BLOB NOT NULL,
    submission_signature BLOB NOT NULL,
    key_envelope         BLOB NOT NULL,
    ciphertext_len       INTEGER NOT NULL,
    blob_id              INTEGER NOT NULL,
    accepted_at          INTEGER NOT NULL,
    leaf_index           INTEGER NOT NULL,
    entry                BLOB NOT NULL,
    proof                BLOB NOT NULL
);
CREATE INDEX messages_sender ON messages (sender);

-- Per-recipient delivery state: 0 queued, 1 acknowledged (01 logged), 2 withdrawn (15 to a 13).
-- seq is the acceptance's leaf index: assigned under the log lock, so it grows in commit order
-- and a subscriber resuming after a cursor never skips a later commit.
CREATE TABLE deliveries (
    message_id BLOB NOT NULL,
    recipient  TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    state      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (message_id, recipient)
);
CREATE INDEX deliveries_inbox ON deliveries (recipient, seq);

-- Receipts and statuses, one chain per (message, recipient), in order.
CREATE TABLE statements (
    message_id  BLOB NOT NULL,
    recipient   TEXT NOT NULL,
    position    INTEGER NOT NULL,
    status      INTEGER NOT NULL,
    statement   BLOB NOT NULL,
    signature   BLOB NOT NULL,
    hash        BLOB NOT NULL,
    logged_at   INTEGER NOT NULL,
    leaf_index  INTEGER NOT NULL,
    entry       BLOB NOT NULL,
    proof       BLOB NOT NULL,
    PRIMARY KEY (message_id, recipient, position)
);
CREATE UNIQUE INDEX statements_hash ON statements (hash);

-- Ciphertext, in segments of at most 1 MiB. A blob is visible once a message row names it;
-- uploads in progress are listed in uploads and removed when committed or abandoned.
CREATE TABLE segments (
    blob_id INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (blob_id, seq)
);
CREATE TABLE uploads (
    blob_id    INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL
);

-- The Merkle log (RFC 9162): every leaf, complete nodes at levels 8, 16, 24, ... (one row per
-- 256 leaves below), the right edge of the tree, and every signed tree head.
CREATE TABLE log_leaves (
    leaf_index INTEGER PRIMARY KEY,
    leaf_hash  BLOB NOT NULL,
    entry      BLOB NOT NULL
);
CREATE INDEX log_leaves_hash ON log_leaves (leaf_hash);
CREATE TABLE log_nodes (
    level      INTEGER NOT NULL,
    node_index INTEGER NOT NULL,
    hash       BLOB NOT NULL,
    PRIMARY KEY (level, node_index)
);
CREATE TABLE log_state (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    tree_size INTEGER NOT NULL,
    frontier  BLOB NOT NULL
);
INSERT INTO log_state (id, tree_size, frontier) VALUES (1, 0, X'0000000000000000');
CREATE TABLE tree_heads (
    tree_size INTEGER PRIMARY KEY,
    tree_head BLOB NOT NULL,
    signature BLOB NOT NULL,
    signed_at INTEGER NOT NULL
);

-- CRLs published by the operator; the newest per issuer is in force.
CREATE TABLE crls (
    issuer       BLOB NOT NULL,
    number       INTEGER NOT NULL,
    der          BLOB NOT NULL,
    published_at INTEGER NOT NULL,
    PRIMARY KEY (issuer, number)
);
