-- Raw records know the record they belong to (an order detail its order, a payment its
-- order reference), so that mapping finds a page's rows by index; and incremental mapping
-- finds what changed since its last pass by fetched_at.
ALTER TABLE raw_records ADD COLUMN parent_key TEXT;
CREATE INDEX raw_records_parent ON raw_records (connection_id, resource, parent_key);
CREATE INDEX raw_records_fetched ON raw_records (connection_id, resource, fetched_at);
