-- The subscribers' safety net reads the recipients of the log entries added since its last look
-- (deliveries.seq is the entry's leaf index): one range scan per node and interval.
CREATE INDEX deliveries_seq ON deliveries (seq);
