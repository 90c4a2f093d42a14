-- The API server: companies' description and tags, API keys, sync settings, the profile,
-- pull operations (datasets), connection errors, webhook consumers and their deliveries.
ALTER TABLE companies ADD COLUMN description TEXT;
ALTER TABLE companies ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';

-- API keys are stored as SHA-256 hashes; the key itself is shown once, at creation.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    key_hash    TEXT NOT NULL UNIQUE,
    key_hint    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

-- The client's profile (one row): its name and the URL the Link page sends merchants back to.
CREATE TABLE profile (
    id            BIGINT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    redirect_url  TEXT,
    updated_at    TEXT NOT NULL
);

-- Sync settings per data type: scope '' holds the profile's defaults, a company id that
-- company's own (which then replace the defaults for it).
CREATE TABLE sync_settings (
    scope                TEXT NOT NULL,
    data_type            TEXT NOT NULL,
    fetch_on_first_link  BOOLEAN NOT NULL,
    sync_schedule_hours  BIGINT NOT NULL,
    sync_from_utc        TEXT,
    PRIMARY KEY (scope, data_type)
);

-- Pull operations (Codat's datasets): one per data type per requested sync, created when
-- the sync is queued and updated while the job runs.
CREATE TABLE datasets (
    id                  TEXT PRIMARY KEY NOT NULL,
    company_id          TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    connection_id       TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    data_type           TEXT NOT NULL,
    status              TEXT NOT NULL,
    status_description  TEXT,
    error_message       TEXT,
    requested           TEXT NOT NULL,
    completed           TEXT,
    progress            BIGINT NOT NULL,
    records_modified    BIGINT NOT NULL,
    initial             BOOLEAN NOT NULL,
    trigger_kind        TEXT NOT NULL,
    job_id              BIGINT,
    run_id              TEXT
);
CREATE INDEX datasets_company ON datasets (company_id, requested);
CREATE INDEX datasets_connection ON datasets (connection_id, data_type, requested);
CREATE INDEX datasets_job ON datasets (job_id);

-- Why a connection failed (Codat's dataConnectionErrors).
CREATE TABLE connection_errors (
    id             BIGSERIAL PRIMARY KEY,
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    status_code    TEXT NOT NULL,
    status_text    TEXT NOT NULL,
    error_message  TEXT NOT NULL,
    errored_on     TEXT NOT NULL,
    resolved_on    TEXT
);
CREATE INDEX connection_errors_connection ON connection_errors (connection_id, id);

-- Webhook consumers; the signing secret is encrypted with the master key.
CREATE TABLE webhook_consumers (
    id                 TEXT PRIMARY KEY NOT NULL,
    url                TEXT NOT NULL,
    event_types        TEXT NOT NULL,
    secret_ciphertext  BYTEA NOT NULL,
    created_at         TEXT NOT NULL,
    disabled           BOOLEAN NOT NULL
);

-- Every event to every consumer, queued in the database so that it survives a restart.
CREATE TABLE webhook_deliveries (
    id                BIGSERIAL PRIMARY KEY,
    consumer_id       TEXT NOT NULL REFERENCES webhook_consumers (id) ON DELETE CASCADE,
    message_id        TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    payload           TEXT NOT NULL,
    status            TEXT NOT NULL,
    attempts          BIGINT NOT NULL,
    next_attempt_at   TEXT NOT NULL,
    lease_until       TEXT,
    last_status_code  BIGINT,
    last_error        TEXT,
    attempt_log       TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    completed_at      TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_consumer ON webhook_deliveries (consumer_id, id);

-- The API's pages of live records: found in an index that holds `deleted`, so that a deep
-- page skips index entries only, never the rows (see paging.rs).
CREATE INDEX commerce_records_live ON commerce_records (connection_id, data_type, deleted, length(id), id COLLATE "C");
CREATE INDEX commerce_records_live_modified ON commerce_records (connection_id, data_type, deleted, modified_date COLLATE "C");
