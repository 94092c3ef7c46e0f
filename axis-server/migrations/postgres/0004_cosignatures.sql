-- Witnesses' cosignatures of the log's signed tree heads (`Log.AddCosignature`): one per witness
-- and head, kept as received (DER `Cosignature`). Numbered 0004 so that 0003 stays free for the
-- unit directory's migration on its own branch.
CREATE TABLE cosignatures (
    tree_size   BIGINT NOT NULL,
    witness     BYTEA NOT NULL,     -- SHA-256 of the witness's SubjectPublicKeyInfo
    cosignature BYTEA NOT NULL,
    PRIMARY KEY (tree_size, witness)
);
