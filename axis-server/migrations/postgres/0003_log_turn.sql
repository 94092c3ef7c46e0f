-- The turn (ARCHITECTURE.md, "Committing on a shared PostgreSQL"): every node appends with a
-- compare-and-set on log_state.tree_size, holding no lock across its round trips; a committer
-- that keeps losing that race takes the turn, and until it appends (or turn_until passes, on the
-- database's clock) the other nodes' appends wait. turn_holder is the committer's random id.
ALTER TABLE log_state ADD COLUMN turn_holder BIGINT, ADD COLUMN turn_until TIMESTAMPTZ;
