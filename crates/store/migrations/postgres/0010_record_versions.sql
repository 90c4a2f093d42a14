-- A counter per connection and data type, moved in the same transaction as every write to
-- that data type's commerce records. The API caches the ordered keys of a query's matching
-- records and serves any page of them by key (deep pages never skip rows); the cached list
-- is used only while this counter has not moved (see paging.rs).
CREATE TABLE record_versions (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    data_type     TEXT NOT NULL,
    version       BIGINT NOT NULL,
    PRIMARY KEY (connection_id, data_type)
);
