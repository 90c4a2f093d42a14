-- The master key's check value: a known text sealed with the master key that encrypted this
-- database's secrets. Opening with another master key fails at once with "does not match
-- this database" instead of re-encrypting keys under it (see key_check.rs).
CREATE TABLE master_key_check (
    id           INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    fingerprint  TEXT NOT NULL,
    check_value  BLOB NOT NULL,
    created_at   TEXT NOT NULL
);

-- One sync of a connection at a time: a lease row held by the syncing process and renewed
-- while it runs (the job queue's mechanism). A second sync finds it and waits or stops;
-- a lease whose holder died expires and can be taken over (see sync_leases.rs).
CREATE TABLE sync_leases (
    connection_id  TEXT PRIMARY KEY NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    owner          TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    acquired_at    TEXT NOT NULL
);
