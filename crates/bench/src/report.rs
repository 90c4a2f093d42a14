//! One row per run, the aligned table, one JSON object per run, and the targets of issue #6
//! checked per profile.

use serde::Serialize;

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRow {
    /// Capacity profile of the simulated shop.
    pub profile: String,
    /// `balanced`, `polite`, `max` (prestalink) or `fixed-1x50`, `fixed-rate` (baselines).
    pub reader: String,
    /// Time scale of the simulated shop.
    pub time_scale: f64,
    /// Orders in the store.
    pub orders: u32,
    /// From starting the reader's process to its exit (diagnosis, reading, mapping, writing).
    pub wall_seconds: f64,
    /// The capacity bound of the same reads (see `bound`).
    pub t_star_seconds: f64,
    /// `wall_seconds / t_star_seconds`.
    pub wall_over_t_star: f64,
    /// Webservice requests the shop served (storefront excluded).
    pub requests: u64,
    /// Webservice answers with a 5xx status.
    pub status_5xx: u64,
    /// Requests stopped by `max_execution_time`, plus requests the client abandoned.
    pub timeouts: u64,
    /// Storefront latency before the run, ms.
    pub shopper_idle_p50_ms: f64,
    /// Storefront latency before the run, ms.
    pub shopper_idle_p95_ms: f64,
    /// Storefront latency during the run, ms.
    pub shopper_sync_p50_ms: f64,
    /// Storefront latency during the run, ms.
    pub shopper_sync_p95_ms: f64,
    /// `shopper_sync_p95_ms / shopper_idle_p95_ms`.
    pub inflation_p95: f64,
    /// Storefront visits measured during the run.
    pub shopper_visits: u64,
    /// Peak resident memory of the reader's process, MiB.
    pub peak_mib: f64,
    /// CPU time (user + system) of the reader's process, s.
    pub cpu_seconds: f64,
    /// `cpu_seconds / wall_seconds`, in percent (of one core).
    pub cpu_percent: f64,
    /// Records of the ground truth that did not arrive.
    pub lost: u64,
    /// Records that arrived more than once (baselines) or that the store does not have.
    pub duplicated: u64,
    /// Records that arrived with other content than the ground truth's (prestalink runs).
    pub differing: u64,
    /// Whether the reader finished (every data type completed / every resource read).
    pub completed: bool,
    /// Why not, or the first differences with the ground truth.
    pub note: Option<String>,
}

impl RunRow {
    /// True when nothing was lost, duplicated or different and the read finished.
    pub fn exact(&self) -> bool {
        self.completed && self.lost == 0 && self.duplicated == 0 && self.differing == 0
    }

    /// Whether this is a prestalink run (not a baseline).
    pub fn is_prestalink(&self) -> bool {
        !self.reader.starts_with("fixed")
    }
}

/// Column headers of the table, in order.
pub const COLUMNS: [&str; 17] = [
    "profile",
    "reader",
    "wall s",
    "T* s",
    "wall/T*",
    "requests",
    "5xx",
    "timeouts",
    "p50 idle ms",
    "p50 sync ms",
    "p95 idle ms",
    "p95 sync ms",
    "inflation",
    "peak MiB",
    "CPU s",
    "CPU %",
    "lost/dup",
];

/// The cells of a row, in [`COLUMNS`] order.
fn cells(row: &RunRow) -> Vec<String> {
    vec![
        row.profile.clone(),
        row.reader.clone(),
        format!("{:.1}", row.wall_seconds),
        format!("{:.2}", row.t_star_seconds),
        format!("{:.2}", row.wall_over_t_star),
        row.requests.to_string(),
        row.status_5xx.to_string(),
        row.timeouts.to_string(),
        format!("{:.1}", row.shopper_idle_p50_ms),
        format!("{:.1}", row.shopper_sync_p50_ms),
        format!("{:.1}", row.shopper_idle_p95_ms),
        format!("{:.1}", row.shopper_sync_p95_ms),
        format!("{:.2}", row.inflation_p95),
        format!("{:.0}", row.peak_mib),
        format!("{:.2}", row.cpu_seconds),
        format!("{:.1}", row.cpu_percent),
        if row.exact() {
            "0/0".to_string()
        } else if !row.completed {
            format!("{}/{} INCOMPLETE", row.lost, row.duplicated)
        } else {
            format!("{}/{}/{}≠", row.lost, row.duplicated, row.differing)
        },
    ]
}

/// The rows as an aligned text table (text columns left, numbers right).
pub fn table(rows: &[RunRow]) -> String {
    let numeric: Vec<usize> = (2..COLUMNS.len()).collect();
    let mut table = plain_table(&COLUMNS, &numeric);
    for row in rows {
        table.add_row(cells(row));
    }
    table.trim_fmt() + "\n"
}

/// A text table without borders (comfy-table): the header, then one line per row, columns
/// two spaces apart, the `numeric` columns aligned right and the others left. Print it with
/// [`comfy_table::Table::trim_fmt`]. Shared by the CLI's and the benchmarks' tables.
pub fn plain_table(header: &[&str], numeric: &[usize]) -> comfy_table::Table {
    use comfy_table::{presets::NOTHING, CellAlignment, Table};
    let mut table = Table::new();
    table.load_preset(NOTHING).set_header(header.to_vec());
    for (i, column) in table.column_iter_mut().enumerate() {
        column.set_padding((0, 2));
        if numeric.contains(&i) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

/// One target and whether it was met.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// What is required, with the value measured.
    pub text: String,
    /// Met or not (`None`: the runs needed were not made).
    pub met: Option<bool>,
}

impl Target {
    fn check(text: String, met: Option<bool>) -> Target {
        Target { text, met }
    }
}

/// The targets of issue #6 that apply to a profile, from its rows.
pub fn targets(profile: &str, rows: &[RunRow]) -> Vec<Target> {
    let rows: Vec<&RunRow> = rows.iter().filter(|r| r.profile == profile).collect();
    let find = |reader: &str| rows.iter().copied().find(|r| r.reader == reader);
    let balanced = find("balanced");
    let fixed = find("fixed-1x50");
    let mut out = Vec::new();
    let ratio_target = |reader: &str, limit: f64| {
        let row = find(reader);
        Target::check(
            match row {
                Some(r) => format!("{reader} wall/T* {:.2} ≤ {limit}", r.wall_over_t_star),
                None => format!("{reader} wall/T* ≤ {limit} (not run)"),
            },
            row.map(|r| r.wall_over_t_star <= limit),
        )
    };
    let inflation_target = |limit: f64| {
        Target::check(
            match balanced {
                Some(r) => format!("balanced p95 inflation {:.2} ≤ {limit}", r.inflation_p95),
                None => format!("balanced p95 inflation ≤ {limit} (not run)"),
            },
            balanced.map(|r| r.inflation_p95 <= limit),
        )
    };
    match profile {
        "dedicated" | "cluster" => {
            out.push(ratio_target("balanced", 2.5));
            out.push(inflation_target(1.5));
            if profile == "cluster" {
                out.push(ratio_target("max", 1.3));
            }
        }
        "laptop" | "shared-hosting" => {
            out.push(inflation_target(2.0));
            out.push(Target::check(
                match (balanced, fixed) {
                    (Some(b), Some(f)) => format!(
                        "balanced p95 inflation {:.2} ≤ fixed-1x50's {:.2}",
                        b.inflation_p95, f.inflation_p95
                    ),
                    _ => "balanced p95 inflation ≤ fixed-1x50's (not run)".to_string(),
                },
                balanced
                    .zip(fixed)
                    .map(|(b, f)| b.inflation_p95 <= f.inflation_p95),
            ));
            out.push(Target::check(
                "balanced finishes".to_string(),
                balanced.map(|b| b.completed),
            ));
        }
        "vps" => out.push(inflation_target(1.5)),
        _ => {}
    }
    let speedup = match profile {
        "cluster" => Some(5.0),
        "vps" | "dedicated" => Some(1.0),
        _ => None,
    };
    if let Some(min) = speedup {
        let x = balanced
            .zip(fixed)
            .map(|(b, f)| f.wall_seconds / b.wall_seconds);
        out.push(Target::check(
            match x {
                Some(x) if min > 1.0 => {
                    format!("balanced {x:.1}x faster than fixed-1x50 (≥ {min}x)")
                }
                Some(x) => format!("balanced {x:.1}x faster than fixed-1x50 (> 1x)"),
                None => "balanced faster than fixed-1x50 (not run)".to_string(),
            },
            x.map(|x| if min > 1.0 { x >= min } else { x > 1.0 }),
        ));
    }
    let inexact: Vec<&str> = rows
        .iter()
        .filter(|r| !r.exact())
        .map(|r| r.reader.as_str())
        .collect();
    out.push(Target::check(
        if inexact.is_empty() {
            format!("zero lost or duplicated in {} runs", rows.len())
        } else {
            format!("zero lost or duplicated: not in {}", inexact.join(", "))
        },
        Some(inexact.is_empty()),
    ));
    let cpu = rows
        .iter()
        .filter(|r| r.is_prestalink())
        .map(|r| r.cpu_percent)
        .fold(None, |m: Option<f64>, c| Some(m.map_or(c, |m| m.max(c))));
    out.push(Target::check(
        match cpu {
            Some(c) => format!("prestalink CPU ≤ 10 % of wall (max {c:.1} %)"),
            None => "prestalink CPU ≤ 10 % of wall (no prestalink run)".to_string(),
        },
        cpu.map(|c| c < 10.0),
    ));
    out
}

/// The targets of a profile on one line.
pub fn targets_line(profile: &str, targets: &[Target]) -> String {
    let parts: Vec<String> = targets
        .iter()
        .map(|t| {
            let verdict = match t.met {
                Some(true) => "met",
                Some(false) => "MISSED",
                None => "n/a",
            };
            format!("{}: {verdict}", t.text)
        })
        .collect();
    format!("{profile} targets: {}", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(reader: &str, wall: f64, inflation: f64) -> RunRow {
        RunRow {
            profile: "cluster".into(),
            reader: reader.into(),
            time_scale: 1.0,
            orders: 100,
            wall_seconds: wall,
            t_star_seconds: 1.0,
            wall_over_t_star: wall,
            requests: 10,
            status_5xx: 0,
            timeouts: 0,
            shopper_idle_p50_ms: 5.0,
            shopper_idle_p95_ms: 6.0,
            shopper_sync_p50_ms: 5.5,
            shopper_sync_p95_ms: 6.0 * inflation,
            inflation_p95: inflation,
            shopper_visits: 100,
            peak_mib: 60.0,
            cpu_seconds: 0.05 * wall,
            cpu_percent: 5.0,
            lost: 0,
            duplicated: 0,
            differing: 0,
            completed: true,
            note: None,
        }
    }

    #[test]
    fn table_has_every_column_and_a_line_per_run() {
        let text = table(&[row("balanced", 2.0, 1.2), row("fixed-1x50", 12.0, 1.1)]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        for column in COLUMNS {
            assert!(lines[0].contains(column), "{column} missing");
        }
        assert!(lines[1].starts_with("cluster  balanced"), "{text}");
        assert!(lines[1].ends_with("0/0"), "{text}");
        // Numbers are aligned right: the wall times end where their header ends.
        let end = |line: &str, what: &str| line.find(what).map(|i| i + what.len());
        assert_eq!(end(lines[0], "wall s"), end(lines[1], "2.0"), "{text}");
        assert_eq!(end(lines[0], "wall s"), end(lines[2], "12.0"), "{text}");
    }

    #[test]
    fn cluster_targets_are_checked() {
        let rows = [
            row("balanced", 2.0, 1.2),
            row("max", 1.5, 1.8),
            row("fixed-1x50", 12.0, 1.1),
        ];
        let t = targets("cluster", &rows);
        let met: Vec<Option<bool>> = t.iter().map(|t| t.met).collect();
        // wall/T* 2.0 ≤ 2.5, inflation 1.2 ≤ 1.5, max 1.5 > 1.3, 6x ≥ 5x, exact, CPU 5 %.
        assert_eq!(
            met,
            [
                Some(true),
                Some(true),
                Some(false),
                Some(true),
                Some(true),
                Some(true)
            ]
        );
        assert!(targets_line("cluster", &t).contains("MISSED"));
    }

    #[test]
    fn a_lost_record_fails_the_zero_loss_target() {
        let mut lossy = row("fixed-rate", 3.0, 1.0);
        lossy.lost = 1;
        let mut rows = [
            row("balanced", 2.0, 1.2),
            row("fixed-1x50", 4.0, 1.3),
            lossy,
        ];
        for r in &mut rows {
            r.profile = "laptop".into();
        }
        let t = targets("laptop", &rows);
        // Inflation 1.2 ≤ 2.0 and ≤ fixed-1x50's 1.3; balanced finished.
        assert_eq!(t[0].met, Some(true));
        assert_eq!(t[1].met, Some(true));
        let zero = t.iter().find(|t| t.text.starts_with("zero")).unwrap();
        assert_eq!(zero.met, Some(false));
        assert!(zero.text.contains("fixed-rate"));
    }
}
