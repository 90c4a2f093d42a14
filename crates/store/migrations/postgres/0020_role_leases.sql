-- Roles that one process of a deployment plays at a time (the scheduler): a row held by
-- that process and renewed while it plays the role; once it expires, any process takes it
-- over (see jobs.rs, `hold_role`).
CREATE TABLE role_leases (
    role         TEXT PRIMARY KEY NOT NULL,
    owner        TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    acquired_at  TEXT NOT NULL
);

-- How many times a job was taken over from a worker that stopped renewing its lease.
ALTER TABLE jobs ADD COLUMN takeovers BIGINT NOT NULL DEFAULT 0;
