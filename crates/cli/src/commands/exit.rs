//! The exit codes of every command, in one place: the commands return them and their
//! `--help` lists them (`after_help` texts are built from [`CODES`]).

/// Everything asked for was done.
pub const EXIT_SUCCESS: u8 = 0;
/// A failure of this machine: the database, a file, the runtime.
pub const EXIT_FAILURE: u8 = 1;
/// Bad arguments: an unknown option or data type, a malformed URL or key (clap uses 2 too).
pub const EXIT_BAD_ARGUMENTS: u8 = 2;
/// The store cannot be reached or read (see the diagnosis code).
pub const EXIT_UNREADABLE: u8 = 3;
/// `sync`: some data types failed (including `PermissionsError`); the others completed.
pub const EXIT_PARTIAL: u8 = 4;
/// `check`: the store can be read, but the key may not read every data type asked for.
pub const EXIT_MISSING_DATA_TYPES: u8 = 5;
/// `sync`: another sync of the same connection is running.
pub const EXIT_SYNC_IN_PROGRESS: u8 = 6;
/// `export`, `rotate-master-key`: the database, the connection or the data type asked
/// for does not exist.
pub const EXIT_NOT_FOUND: u8 = 7;

/// Every exit code with its meaning, for help texts and the README.
pub const CODES: &[(u8, &str)] = &[
    (EXIT_SUCCESS, "success"),
    (
        EXIT_FAILURE,
        "failure of the database, a file or this machine",
    ),
    (
        EXIT_BAD_ARGUMENTS,
        "bad arguments (option, data type, malformed URL or key)",
    ),
    (EXIT_UNREADABLE, "the store cannot be reached or read"),
    (
        EXIT_PARTIAL,
        "some data types failed or may not be read (PermissionsError); the others completed",
    ),
    (
        EXIT_MISSING_DATA_TYPES,
        "the key may not read every data type asked for",
    ),
    (
        EXIT_SYNC_IN_PROGRESS,
        "another sync of this connection is running",
    ),
    (
        EXIT_NOT_FOUND,
        "the database, connection or data type asked for does not exist",
    ),
];
