//! Command-line options of `prestalink simulate`, and their translation into a
//! [`SimulatorConfig`].

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};

use crate::api::{Method, Permissions, Version};
use crate::capacity::{Capacity, Profile};
use crate::faults::Faults;
use crate::generator::GenConfig;
use crate::server::hosting::{WafSpec, DEFAULT_WAF_SPEC};
use crate::server::{SimulatorConfig, DEFAULT_KEY};

/// What happens to the `Authorization` header on its way to PHP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthHeader {
    /// PHP sees the header (a correctly configured host).
    Passed,
    /// The header is stripped (CGI/FastCGI without CGIPassAuth): only `?ws_key=` works.
    Stripped,
}

/// Serve a simulated PrestaShop store until Ctrl-C.
#[derive(Debug, Clone, Args)]
#[command(after_long_help = PROFILES_HELP)]
pub struct SimulateArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Seed of the generated store, the churn and the shopper arrivals.
    #[arg(long, default_value_t = GenConfig::default().seed)]
    pub seed: u64,
    /// Installed languages (1 renders multilingual fields as plain strings).
    #[arg(long, default_value_t = GenConfig::default().languages)]
    pub languages: u32,
    /// Shops (more than 1 is a multistore).
    #[arg(long, default_value_t = GenConfig::default().shops)]
    pub shops: u32,
    /// Orders to generate.
    #[arg(long, default_value_t = GenConfig::default().orders)]
    pub orders: u32,
    /// Customers to generate.
    #[arg(long, default_value_t = GenConfig::default().customers)]
    pub customers: u32,
    /// Products to generate.
    #[arg(long, default_value_t = GenConfig::default().products)]
    pub products: u32,
    /// The shop's time zone (PS_TIMEZONE, IANA name); every date is local to it.
    #[arg(long, default_value_t = GenConfig::default().timezone)]
    pub timezone: String,

    /// PrestaShop version to imitate: 1.7.8, 8.1.2 or 9.0.
    #[arg(long = "version", value_name = "VERSION", default_value = "8.1.2", value_parser = parse_version)]
    pub ps_version: Version,

    /// A Webservice key (32 characters A–Z0–9), optionally limited to some resources:
    /// `KEY` or `KEY:orders,customers`. Keys are read-only (GET, HEAD). Repeatable; the first
    /// is printed. Default: a built-in key with access to everything.
    #[arg(long = "key", value_name = "KEY[:RESOURCES]")]
    pub keys: Vec<String>,

    /// `stripped`: the host drops the Authorization header before PHP (Basic auth gets a
    /// plain 401, `?ws_key=` works).
    #[arg(long, value_enum, default_value = "passed")]
    pub auth_header: AuthHeader,
    /// Redirect every request (301) to this base URL, keeping path and query.
    #[arg(long, value_name = "URL")]
    pub redirect_to: Option<String>,
    /// No URL rewriting: `/api/…` is an Apache 404; `/webservice/dispatcher.php?url=…` works.
    #[arg(long)]
    pub no_rewrite: bool,
    /// The Webservice is disabled in the back office (503 code 22 with a key).
    #[arg(long)]
    pub webservice_disabled: bool,
    /// A firewall answering HTML 403 to some requests. SPEC: comma-separated `rate=P`,
    /// `wskey` (URLs with ws_key), `like` (filters with %), `pattern=TEXT`, `seed=N`.
    /// `--waf` alone blocks 10 % of requests at random (`rate=0.1`).
    #[arg(long, value_name = "SPEC", num_args = 0..=1, require_equals = true, default_missing_value = DEFAULT_WAF_SPEC)]
    pub waf: Option<String>,
    /// The host shows a maintenance page: HTML 503 with Retry-After: 600 for every request.
    #[arg(long)]
    pub maintenance: bool,
    /// Serve a plain website, not PrestaShop: `/` is HTML, `/api/…` an Apache 404.
    #[arg(long)]
    pub not_prestashop: bool,
    /// Serve HTTPS with a self-signed certificate (clients must be told to trust it).
    #[arg(long)]
    pub tls: bool,

    /// Hosting size: laptop, shared-hosting, vps, dedicated or cluster (see below).
    #[arg(long, default_value = "laptop")]
    pub profile: Profile,
    /// PHP workers (PHP-FPM children: requests served at once, the rest queue), overriding
    /// the profile's.
    #[arg(long)]
    pub workers: Option<usize>,
    /// CPU cores the busy workers share (processor sharing), overriding the profile's.
    #[arg(long)]
    pub cores: Option<f64>,
    /// Multiplier of every modelled service time: 1 = real speed, 0 = no delay at all.
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// PHP max_execution_time in seconds (host time; multiplied by the time scale). A
    /// request that would take longer fails with an empty 500. Default: the profile's (30).
    #[arg(long, value_name = "SECS")]
    pub max_execution_time: Option<f64>,
    /// Faults to inject: comma-separated `500=P`, `reset=P`, `truncate=P`, `badchar=P`,
    /// `empty=P`, `slow=P:DURATION`, `fail=RESOURCE`, `seed=N`; for example
    /// `500=0.05,reset=0.01,slow=0.02:2s,fail=order_details` (crates/simulator/README.md).
    #[arg(long, value_name = "SPEC")]
    pub faults: Option<String>,
    /// Store changes per second (new orders, status changes, edits), in shop-local time.
    #[arg(long, value_name = "PER_SECOND", default_value_t = 0.0)]
    pub churn: f64,
    /// Steady storefront traffic as a fraction of the workers' capacity (0.2 ≈ 20 %).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    pub shopper_load: f64,
    /// Time zone of the database's clock (IANA name, e.g. UTC): every other churn step is
    /// dated by it, as SQL `date_upd = NOW()` writes do (modules, ERP bridges, imports),
    /// instead of by PHP in the shop's time zone. Default: the shop's time zone.
    #[arg(long, value_name = "TZ")]
    pub db_time_zone: Option<String>,
}

/// The profile table shown by `--help`.
pub const PROFILES_HELP: &str = "\
Profiles: a request takes a PHP worker (the rest queue, FIFO); the busy workers share the
cores (processor sharing); the database runs on the same cores or on its own server. Work =
fixed cost + per-record cost × records, each split into PHP + database (a full order is 1
record-unit, a product 10, a customer 0.35, small rows 0.2, an id-list entry 1/70; records
past 100 in a page cost 1.6×):

  profile         cores  workers  database    fixed cost       per full order    shopper page
  laptop          2      5        same cores  6.8 + 6.2 ms     0.16 + 0.12 ms    28 + 13 ms
  shared-hosting  2      2        same cores  32 + 8 ms        0.42 + 0.28 ms    190 + 60 ms
  vps             4      5        same cores  6.8 + 6.2 ms     0.16 + 0.12 ms    28 + 13 ms
  dedicated       12     24       8 cores     4 + 1 ms         0.12 + 0.08 ms    38 + 12 ms
  cluster         48     96       16 cores    4 + 1 ms         0.12 + 0.08 ms    38 + 12 ms

laptop is calibrated on a real PrestaShop 8.1.2 on 2 cores (crates/simulator/README.md).
max_execution_time is 30 s (PHP time). Load slows requests down; nothing is refused.";

fn parse_version(s: &str) -> Result<Version, String> {
    Version::parse(s).ok_or_else(|| format!("unknown version {s:?}: expected 1.7.8, 8.1.2 or 9.0"))
}

/// Parse `KEY` or `KEY:res1,res2` into a read-only key.
pub fn parse_key(spec: &str) -> anyhow::Result<(String, Permissions)> {
    let (key, resources) = match spec.split_once(':') {
        Some((k, r)) => (k, Some(r)),
        None => (spec, None),
    };
    if key.len() != 32 || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
        bail!("key {key:?} must be 32 letters and digits (PrestaShop rejects other keys with code 18)");
    }
    let resources = resources.map(|r| {
        r.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    });
    Ok((
        key.to_string(),
        Permissions {
            resources,
            methods: vec![Method::Get, Method::Head],
        },
    ))
}

impl SimulatorConfig {
    /// The configuration `prestalink simulate` runs with.
    pub fn from_args(args: &SimulateArgs) -> anyhow::Result<SimulatorConfig> {
        let tz = &args.timezone;
        tz.parse::<chrono_tz::Tz>()
            .map_err(|_| anyhow::anyhow!("--timezone {tz:?} is not an IANA time zone"))?;
        if let Some(db) = &args.db_time_zone {
            db.parse::<chrono_tz::Tz>()
                .map_err(|_| anyhow::anyhow!("--db-time-zone {db:?} is not an IANA time zone"))?;
        }
        let gen = GenConfig {
            seed: args.seed,
            languages: args.languages,
            shops: args.shops,
            orders: args.orders,
            customers: args.customers,
            products: args.products,
            timezone: tz.clone(),
        };
        let keys = if args.keys.is_empty() {
            vec![(DEFAULT_KEY.to_string(), Permissions::default())]
        } else {
            args.keys
                .iter()
                .map(|k| parse_key(k))
                .collect::<anyhow::Result<_>>()?
        };
        let mut capacity = Capacity::profile(args.profile);
        if let Some(w) = args.workers {
            anyhow::ensure!(w >= 1, "--workers must be at least 1");
            capacity.workers = w;
        }
        if let Some(cores) = args.cores {
            anyhow::ensure!(
                cores.is_finite() && cores >= 0.01,
                "--cores must be at least 0.01"
            );
            capacity.cores = cores;
        }
        anyhow::ensure!(
            args.time_scale.is_finite() && args.time_scale >= 0.0,
            "--time-scale must be 0 or more"
        );
        capacity.time_scale = args.time_scale;
        if let Some(secs) = args.max_execution_time {
            anyhow::ensure!(
                secs > 0.0 && secs.is_finite(),
                "--max-execution-time must be above 0"
            );
            capacity.max_execution_time = Duration::from_secs_f64(secs);
        }
        let faults = match &args.faults {
            Some(spec) => spec
                .parse::<Faults>()
                .map_err(anyhow::Error::msg)
                .context("--faults")?,
            None => Faults::default(),
        };
        let waf = match &args.waf {
            Some(spec) => Some(
                spec.parse::<WafSpec>()
                    .map_err(anyhow::Error::msg)
                    .context("--waf")?,
            ),
            None => None,
        };
        anyhow::ensure!(args.churn >= 0.0, "--churn must be 0 or more");
        anyhow::ensure!(
            (0.0..=1.0).contains(&args.shopper_load),
            "--shopper-load must be between 0 and 1"
        );
        Ok(SimulatorConfig {
            listen: args.listen,
            gen,
            version: args.ps_version,
            keys,
            hosting: crate::server::Hosting {
                auth_header_stripped: args.auth_header == AuthHeader::Stripped,
                redirect_to: args.redirect_to.clone(),
                no_rewrite: args.no_rewrite,
                webservice_disabled: args.webservice_disabled,
                waf,
                maintenance: args.maintenance,
                not_prestashop: args.not_prestashop,
                tls: args.tls,
            },
            capacity,
            faults,
            churn_per_second: args.churn,
            shopper_load: args.shopper_load,
            db_timezone: args.db_time_zone.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SimulateArgs,
    }

    fn parse(line: &[&str]) -> SimulateArgs {
        let mut argv = vec!["simulate"];
        argv.extend_from_slice(line);
        Cli::try_parse_from(argv).expect("parses").args
    }

    #[test]
    fn every_option_reaches_the_config() {
        let a = parse(&[
            "--listen=127.0.0.1:0",
            "--orders=50",
            "--version=9.0",
            "--key=ABCDEFGHIJKLMNOPQRSTUVWXYZ012345:orders,customers",
            "--auth-header=stripped",
            "--no-rewrite",
            "--waf",
            "--profile=dedicated",
            "--workers=3",
            "--cores=1.5",
            "--time-scale=0.5",
            "--max-execution-time=2",
            "--faults=500=0.1",
            "--churn=2",
            "--shopper-load=0.2",
            "--db-time-zone=UTC",
        ]);
        let c = SimulatorConfig::from_args(&a).unwrap();
        assert_eq!(c.gen.orders, 50);
        assert_eq!(c.version, Version::V9_0);
        assert_eq!(
            c.keys[0].1.resources.as_deref().unwrap(),
            ["orders", "customers"]
        );
        assert!(c.hosting.auth_header_stripped && c.hosting.no_rewrite);
        assert_eq!(c.hosting.waf.as_ref().unwrap().rate, 0.1);
        assert_eq!(c.capacity.workers, 3);
        assert_eq!(c.capacity.cores, 1.5);
        assert_eq!(c.capacity.db_cores, Some(8.0));
        assert_eq!(c.capacity.per_full_record, Duration::from_micros(120));
        assert_eq!(c.capacity.max_execution_time, Duration::from_secs(2));
        assert_eq!(c.faults.server_error, 0.1);
        assert_eq!(c.churn_per_second, 2.0);
        assert_eq!(c.db_timezone.as_deref(), Some("UTC"));
    }

    #[test]
    fn defaults_and_rejections() {
        let c = SimulatorConfig::from_args(&parse(&[])).unwrap();
        assert_eq!(c.keys[0].0, DEFAULT_KEY);
        assert_eq!(c.capacity, Capacity::profile(Profile::Laptop));
        assert!(parse_key("short").is_err());
        let bad = parse(&["--faults=500=7"]);
        assert!(SimulatorConfig::from_args(&bad).is_err());
        assert_eq!(c.db_timezone, None);
        let bad = parse(&["--db-time-zone=Mars/Olympus"]);
        assert!(SimulatorConfig::from_args(&bad).is_err());
        let waf = parse(&["--waf=wskey"]);
        assert!(
            SimulatorConfig::from_args(&waf)
                .unwrap()
                .hosting
                .waf
                .unwrap()
                .ws_key
        );
    }
}
