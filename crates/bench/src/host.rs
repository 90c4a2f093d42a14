//! What this machine says about itself: the load average (the development machine is
//! shared, so every figure is reported next to it) and the CPU time of a PrestaShop running
//! on it (PHP-FPM, the database, the web server), read from `/proc` so that a benchmark
//! against a local real store can split the shop's work into PHP and database time.
//!
//! Linux only; elsewhere, and when no such process runs here, the readings are `None`.

use std::collections::BTreeMap;
use std::time::Duration;

/// The 1-minute and 5-minute load averages (`/proc/loadavg`).
pub fn load_average() -> Option<(f64, f64)> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut fields = text.split_whitespace();
    let one = fields.next()?.parse().ok()?;
    let five = fields.next()?.parse().ok()?;
    Some((one, five))
}

/// CPU time used so far by the shop's processes on this machine, by part.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ShopCpu {
    /// PHP (`php-fpm*`, `php*`): PrestaShop's code.
    pub php: Duration,
    /// The database (`mariadbd`, `mysqld`).
    pub db: Duration,
    /// The web server (`apache2`, `httpd`, `nginx`).
    pub web: Duration,
}

impl ShopCpu {
    /// CPU used between `earlier` and `self`.
    pub fn since(self, earlier: ShopCpu) -> ShopCpu {
        ShopCpu {
            php: self.php.saturating_sub(earlier.php),
            db: self.db.saturating_sub(earlier.db),
            web: self.web.saturating_sub(earlier.web),
        }
    }
}

/// Which part of a shop a process name (`/proc/PID/comm`) belongs to, if any.
pub fn part_of(comm: &str) -> Option<&'static str> {
    if comm.starts_with("php") {
        Some("php")
    } else if comm == "mariadbd" || comm == "mysqld" {
        Some("db")
    } else if comm == "apache2" || comm == "httpd" || comm == "nginx" {
        Some("web")
    } else {
        None
    }
}

/// The CPU time (user + system, with the reaped children's) of every process of a shop
/// running on this machine; `None` when there is none (or no `/proc`).
pub fn shop_cpu() -> Option<ShopCpu> {
    let ticks = clock_ticks();
    let mut parts: BTreeMap<&'static str, u64> = BTreeMap::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if let Some((part, used)) = parse_stat(&stat) {
            *parts.entry(part).or_default() += used;
        }
    }
    if parts.is_empty() {
        return None;
    }
    let time = |part: &str| {
        Duration::from_secs_f64(parts.get(part).copied().unwrap_or(0) as f64 / ticks as f64)
    };
    Some(ShopCpu {
        php: time("php"),
        db: time("db"),
        web: time("web"),
    })
}

/// The part and the clock ticks (utime + stime + cutime + cstime) of one `/proc/PID/stat`
/// line, for a shop process.
fn parse_stat(stat: &str) -> Option<(&'static str, u64)> {
    // "PID (comm) state ppid …": comm may contain spaces and parentheses; it ends at the
    // last ')'.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let part = part_of(&stat[open + 1..close])?;
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    // After the comm: state is field 3 of the line, utime 14, stime 15, cutime 16,
    // cstime 17; here index 0 is field 3.
    let sum = (11..=14)
        .map(|i| {
            fields
                .get(i)
                .and_then(|f| f.parse::<i64>().ok())
                .unwrap_or(0)
        })
        .sum::<i64>();
    Some((part, sum.max(0) as u64))
}

fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as u64
    } else {
        100
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_cpu_fields_of_a_stat_line() {
        let line = "19851 (php-fpm8.2) S 19849 19849 19849 0 -1 4194624 9446 0 0 0 88 12 3 4 20 0 1 0 1234 287396 18411";
        assert_eq!(parse_stat(line), Some(("php", 88 + 12 + 3 + 4)));
        let db = "3830 (mariadbd) S 1 3830 3830 0 -1 4194560 1 0 0 0 268 155 0 0 20 0 9 0";
        assert_eq!(parse_stat(db), Some(("db", 423)));
        assert_eq!(parse_stat("1 (sh (x)) S 0 0 0 0 0 0 0 0 0 0 5 5 0 0"), None);
        assert_eq!(part_of("apache2"), Some("web"));
    }

    #[test]
    fn cpu_since_subtracts_by_part() {
        let a = ShopCpu {
            php: Duration::from_secs(3),
            db: Duration::from_secs(2),
            web: Duration::from_secs(1),
        };
        let b = ShopCpu {
            php: Duration::from_secs(5),
            ..a
        };
        assert_eq!(b.since(a).php, Duration::from_secs(2));
        assert_eq!(b.since(a).db, Duration::ZERO);
    }

    #[test]
    fn this_machine_has_a_load_average() {
        if cfg!(target_os = "linux") {
            let (one, five) = load_average().unwrap();
            assert!(one >= 0.0 && five >= 0.0);
        }
    }
}
