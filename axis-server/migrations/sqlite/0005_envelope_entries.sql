-- Issue #18: deliveries linear in recipients. Routing header version 2 commits to a Merkle root
-- over per-recipient key-envelope entries; each delivery row keeps its recipient's entry, its
-- index (the recipient's position in the header) and its audit path (concatenated 32-octet
-- hashes), which the delivery carries instead of the whole envelope. Rows of documents
-- accepted before (version-1 headers) keep empty values: current SDKs refuse a version-1
-- header, so such a document is refused unopened (FORMATS.md §7).
ALTER TABLE deliveries ADD COLUMN key_entry BLOB NOT NULL DEFAULT x'';
ALTER TABLE deliveries ADD COLUMN key_index INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN key_path BLOB NOT NULL DEFAULT x'';
