//! What every command's `--help` ends with: its exit codes, the environment variables it
//! reads and the valid data types, built from the code that uses them (exit.rs, the data
//! type list) so the help cannot drift from the behaviour.

use std::fmt::Write as _;

use prestalink_commerce::DataType;

use super::exit::CODES;

/// Environment variables and what they are for.
pub const ENV_VARS: &[(&str, &str)] = &[
    (
        "PRESTALINK_DB",
        "the database, as --db (a SQLite file path or postgres:// URL)",
    ),
    (
        "PRESTALINK_MASTER_KEY",
        "the master key that encrypts Webservice keys (64 hex digits or base64 of 32 bytes); \
         SQLite uses <database file>.key when unset",
    ),
    ("PRESTALINK_KEY", "the Webservice key, as --key"),
    (
        "PRESTALINK_LOG",
        "diagnostics on standard error, RUST_LOG syntax (e.g. prestalink_pacing=debug)",
    ),
    (
        "PRESTALINK_THREADS",
        "threads for decoding and mapping, as --threads",
    ),
    (
        "SSL_CERT_FILE",
        "a PEM bundle of extra trusted certificate authorities, as --ca-file",
    ),
];

/// The data type names, for clap: an unknown one is refused with the list.
pub fn data_type_parser() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(DataType::ALL.map(DataType::key))
}

/// A request rate cap: a number above 0 and at most 10,000 per second.
pub fn positive_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number"))?;
    if !(rate > 0.0 && rate <= 10_000.0) {
        return Err(format!(
            "{rate} is not a possible rate: give more than 0 and at most 10000 requests per second"
        ));
    }
    Ok(rate)
}

/// The end of a command's `--help`: `codes` (exit codes), `env` (variables it reads) and,
/// with `data_types`, the valid data types.
pub fn after_help(codes: &[u8], env: &[&str], data_types: bool) -> String {
    let mut out = String::from("Exit codes:\n");
    for (code, meaning) in CODES.iter().filter(|(c, _)| codes.contains(c)) {
        let _ = writeln!(out, "  {code}  {meaning}");
    }
    if !env.is_empty() {
        out.push_str("\nEnvironment variables:\n");
        for (name, meaning) in ENV_VARS.iter().filter(|(n, _)| env.contains(n)) {
            let _ = writeln!(out, "  {name}  {meaning}");
        }
    }
    if data_types {
        out.push_str("\nData types:\n");
        for dt in DataType::ALL {
            let note = match dt.support() {
                prestalink_commerce::Support::NotSupported => "  (PrestaShop has no such data)",
                _ => "",
            };
            let _ = writeln!(out, "  {}{note}", dt.key());
        }
    }
    out
}

/// Where the README's generated troubleshooting section starts and ends.
#[cfg(test)]
pub const README_START: &str = "<!-- troubleshooting:start: generated from the code by \
    `UPDATE_README=1 cargo test -p prestalink --bin prestalink readme`; do not edit -->";
/// See [`README_START`].
#[cfg(test)]
pub const README_END: &str = "<!-- troubleshooting:end -->";

/// The README's troubleshooting section: every diagnosis code and warning with an example
/// message and its fix (from the diagnosis's own texts), and every exit code.
#[cfg(test)]
pub fn troubleshooting_markdown() -> String {
    let cell = |text: &str| text.replace('|', "\\|").replace('\n', " ");
    let mut out = String::new();
    let entries = prestalink_webservice::diagnose::troubleshooting();
    for (title, failures) in [
        (
            "Diagnosis codes (`check`, and every `sync`, which starts with the same diagnosis)",
            true,
        ),
        ("Warnings (the store can be read)", false),
    ] {
        let _ = writeln!(out, "#### {title}\n");
        out.push_str("| code | message (example) | fix |\n|---|---|---|\n");
        for e in entries
            .iter()
            .filter(|e| e.failure == failures || (failures && e.code == "connected"))
        {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} |",
                e.code,
                cell(&e.message),
                cell(&e.fix)
            );
        }
        out.push('\n');
    }
    out.push_str("#### Exit codes\n\n| exit code | meaning |\n|---|---|\n");
    for (code, meaning) in CODES {
        let _ = writeln!(out, "| {code} | {} |", cell(meaning));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's troubleshooting section is exactly what the code says; with
    /// `UPDATE_README=1` it is rewritten instead.
    #[test]
    fn readme_troubleshooting_section_is_generated_from_the_code() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
        let readme = std::fs::read_to_string(&path).expect("README.md");
        let start = readme
            .find(README_START)
            .expect("the start marker is in README.md");
        let end = readme
            .find(README_END)
            .expect("the end marker is in README.md");
        let body = &readme[start + README_START.len()..end];
        let expected = format!("\n{}", troubleshooting_markdown());
        if body == expected {
            return;
        }
        if std::env::var_os("UPDATE_README").is_some() {
            let updated = format!(
                "{}{README_START}{expected}{}",
                &readme[..start],
                &readme[end..]
            );
            std::fs::write(&path, updated).expect("write README.md");
            return;
        }
        panic!(
            "README.md's troubleshooting section differs from the code; run \
             `UPDATE_README=1 cargo test -p prestalink --bin prestalink readme`"
        );
    }

    #[test]
    fn impossible_rates_are_refused() {
        assert!(positive_rate("0").is_err());
        assert!(positive_rate("-1").is_err());
        assert!(positive_rate("NaN").is_err());
        assert!(positive_rate("inf").is_err());
        assert_eq!(positive_rate("2.5"), Ok(2.5));
    }
}
