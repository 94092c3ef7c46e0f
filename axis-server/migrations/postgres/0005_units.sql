-- The unit directory (issue #14): every version of every unit, so any version can be read in
-- pages while later imports land, and the changes since a version are a range read. A unit's
-- row is live from the version that added it until the one that changed or removed it
-- (removed_in NULL while current). Versions are signed by the axis operator (DER + CMS).
CREATE TABLE units (
    unit_id    TEXT NOT NULL,
    added_in   BIGINT NOT NULL,
    removed_in BIGINT,
    name       TEXT NOT NULL,
    parent_id  TEXT NOT NULL,
    code_qd20  TEXT NOT NULL,
    level      BIGINT NOT NULL,
    PRIMARY KEY (unit_id, added_in)
);
CREATE INDEX units_added ON units (added_in);
CREATE INDEX units_removed ON units (removed_in);
CREATE INDEX units_parent ON units (parent_id, unit_id);
CREATE TABLE directory_versions (
    version     BIGINT PRIMARY KEY,
    statement   BYTEA NOT NULL,
    signature   BYTEA NOT NULL,
    imported_at BIGINT NOT NULL
);
