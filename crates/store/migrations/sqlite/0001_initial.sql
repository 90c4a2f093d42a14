-- prestalink schema, SQLite flavour. migrations/postgres holds the same schema for
-- PostgreSQL; tests/schema_parity.rs proves that both define the same tables and columns.
-- Timestamps are UTC strings in one fixed format (YYYY-MM-DDTHH:MM:SS.mmmZ) on both engines,
-- so that ordering and comparing them as strings is correct. Only the record `data`
-- columns (JSONB on PostgreSQL, so that queries use its operators), byte strings and
-- identity columns are spelled differently.

CREATE TABLE companies (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE connections (
    id               TEXT PRIMARY KEY NOT NULL,
    company_id       TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    store_url        TEXT NOT NULL,
    key_ciphertext   BLOB NOT NULL,
    key_fingerprint  TEXT NOT NULL,
    key_hint         TEXT NOT NULL,
    status           TEXT NOT NULL,
    status_reason    TEXT,
    settings         TEXT NOT NULL,
    pacer_settings   TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (company_id, store_url)
);

CREATE TABLE raw_records (
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    resource       TEXT NOT NULL,
    source_id      TEXT NOT NULL,
    data           TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    fetched_at     TEXT NOT NULL,
    deleted        BOOLEAN NOT NULL,
    PRIMARY KEY (connection_id, resource, source_id)
);

CREATE TABLE commerce_records (
    connection_id         TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    data_type             TEXT NOT NULL,
    id                    TEXT NOT NULL,
    data                  TEXT NOT NULL,
    content_hash          TEXT NOT NULL,
    modified_date         TEXT NOT NULL,
    source_modified_date  TEXT,
    deleted               BOOLEAN NOT NULL,
    PRIMARY KEY (connection_id, data_type, id)
);
CREATE INDEX commerce_records_modified ON commerce_records (connection_id, data_type, modified_date);

CREATE TABLE checkpoints (
    connection_id    TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    resource         TEXT NOT NULL,
    kind             TEXT NOT NULL,
    last_id          TEXT,
    watermark_local  TEXT,
    watermark_utc    TEXT,
    run_id           TEXT,
    cursor           TEXT,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (connection_id, resource, kind)
);

CREATE TABLE sync_runs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id           TEXT NOT NULL,
    connection_id    TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    data_type        TEXT NOT NULL,
    status           TEXT NOT NULL,
    records_read     BIGINT NOT NULL,
    records_written  BIGINT NOT NULL,
    requests         BIGINT NOT NULL,
    error            TEXT,
    started_at       TEXT NOT NULL,
    finished_at      TEXT,
    updated_at       TEXT NOT NULL
);
CREATE INDEX sync_runs_latest ON sync_runs (connection_id, data_type, id);

CREATE TABLE jobs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id     TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL,
    payload           TEXT NOT NULL,
    status            TEXT NOT NULL,
    run_after         TEXT NOT NULL,
    lease_owner       TEXT,
    lease_expires_at  TEXT,
    attempts          BIGINT NOT NULL,
    last_error        TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX jobs_due ON jobs (status, run_after);
-- One store is read by one worker at a time: at most one running job per connection.
CREATE UNIQUE INDEX jobs_one_running_per_connection ON jobs (connection_id) WHERE status = 'running';
