-- Witnesses' cosignatures of the log's signed tree heads (`Log.AddCosignature`): one per witness
-- and head, kept as received (DER `Cosignature`). Numbered 0003 so that 0002 stays free for the
-- unit directory's migration on its own branch.
CREATE TABLE cosignatures (
    tree_size   INTEGER NOT NULL,
    witness     BLOB NOT NULL,      -- SHA-256 of the witness's SubjectPublicKeyInfo
    cosignature BLOB NOT NULL,
    PRIMARY KEY (tree_size, witness)
);
