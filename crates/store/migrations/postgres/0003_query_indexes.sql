-- Indexes that serve the API's default order (natural id order: length, then bytes) and
-- orderBy/filters on modifiedDate, so that a page is read from the index instead of sorting
-- every record of the data type.
-- COLLATE "C" matches the byte-wise comparisons the query compiler emits.
CREATE INDEX commerce_records_natural ON commerce_records (connection_id, data_type, length(id), id COLLATE "C");
DROP INDEX commerce_records_modified;
CREATE INDEX commerce_records_modified ON commerce_records (connection_id, data_type, modified_date COLLATE "C");
