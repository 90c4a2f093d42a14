-- Raw records are read back page by page in natural id order (length, then bytes) when a
-- sync maps them; without this index every page sorted the whole resource (quadratic time,
-- and memory growing with the store).
-- COLLATE "C" matches the byte-wise comparisons of list_raw.
CREATE INDEX raw_records_natural ON raw_records (connection_id, resource, length(source_id), source_id COLLATE "C");
