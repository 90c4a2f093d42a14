//! One module per subcommand.
pub mod api_key;
pub mod bench;
pub mod check;
pub mod demo;
pub mod export;
pub mod progress_ui;
pub mod serve;
pub mod simulate;
pub mod sync;
