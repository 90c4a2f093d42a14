//! Progress bars for a running sync (`indicatif`), fed by the engine's progress events.
//! Shown only on a terminal; otherwise the events are drained silently. The rate and the
//! time left are indicatif's own estimates from the positions it is given (the events'
//! `rate` and `eta_seconds` serve the dashboard's live page).

use std::collections::HashMap;
use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use prestalink_sync::{ProgressEvent, Stage};
use tokio::sync::mpsc::UnboundedReceiver;

/// Renders events until the sender side is dropped.
pub async fn render(mut events: UnboundedReceiver<ProgressEvent>, enabled: bool) {
    let enabled = enabled && std::io::stderr().is_terminal();
    let multi = MultiProgress::with_draw_target(if enabled {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let style = ProgressStyle::with_template(
        "{prefix:>28} {bar:30} {pos:>8}/{len:<8} {per_sec:>12}, ETA {eta} {msg}",
    )
    .expect("valid template");
    let spinner =
        ProgressStyle::with_template("{prefix:>28} {spinner} {pos:>8} {per_sec:>12} {msg}")
            .expect("valid template");
    let mut bars: HashMap<String, ProgressBar> = HashMap::new();
    while let Some(event) = events.recv().await {
        let name = match &event.stage {
            Stage::Read(resource) => format!("read {resource}"),
            Stage::Map(data_type) => format!("map {data_type}"),
        };
        let bar = bars.entry(name.clone()).or_insert_with(|| {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(spinner.clone());
            bar.set_prefix(name.clone());
            bar
        });
        if let Some(total) = event.total {
            if bar.length() != Some(total) {
                bar.set_style(style.clone());
                bar.set_length(total);
            }
        }
        bar.set_position(event.records);
        bar.set_message(format!("{} req", event.requests));
        if event.finished {
            match &event.error {
                Some(error) => bar.abandon_with_message(format!("failed: {error}")),
                None => bar.finish_with_message(format!("{} req, done", event.requests)),
            }
        }
    }
}
