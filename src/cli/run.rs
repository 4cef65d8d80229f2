//! `magento-connector run <job>`: one job in this process, through the same [`RunManager`] as
//! the server, with a progress bar on stderr and a summary on stdout. Ctrl-c cancels the run at
//! the next record boundary.

use std::sync::Arc;
use std::time::Duration;

use dxr::Value;
use indicatif::{ProgressBar, ProgressStyle};

use super::{Failure, RunArgs, Wiring, exit, open_store, pick_backend, services};
use crate::config::Config;
use crate::rpc::value;
use crate::server::jobs::{JobKind, JobOptions};
use crate::server::runs::{RunManager, RunSettings, StartError};
use crate::store::{Outcome, RunRow, RunState, Store};
use crate::telemetry::Redactor;

const POLL: Duration = Duration::from_millis(200);

/// Option name → command-line flag.
fn flag(key: &str) -> String {
    format!("--{}", key.replace('_', "-"))
}

/// Builds the job options from the flags, with the same validation as the XML-RPC methods.
pub(super) fn options(kind: JobKind, args: &RunArgs) -> Result<JobOptions, Failure> {
    let mut m = value::Map::new();
    if !args.ids.is_empty() {
        m.insert("ids".into(), value::array(args.ids.iter().map(|i| value::id(*i))));
    }
    if args.dry_run {
        m.insert("dry_run".into(), value::boolean(true));
    }
    if args.full {
        m.insert("full".into(), value::boolean(true));
    }
    if !args.stores.is_empty() {
        m.insert("stores".into(), value::array(args.stores.iter().map(|s| value::string(s.clone()))));
    }
    if let Some(s) = &args.since {
        m.insert("since".into(), value::string(s.clone()));
    }
    if !args.increment_ids.is_empty() {
        m.insert("increment_ids".into(), value::array(args.increment_ids.iter().map(|s| value::string(s.clone()))));
    }
    let accepted = kind.accepted_options();
    if let Some(k) = m.keys().find(|k| !accepted.contains(&k.as_str())) {
        let takes: Vec<String> = accepted.iter().map(|a| flag(a)).collect();
        let takes = if takes.is_empty() { "no options".to_owned() } else { takes.join(", ") };
        return Err(Failure::new(
            exit::CONFIG,
            format!("{} does not apply to `run {}` (it takes {takes})", flag(k), kind.cli_name()),
        ));
    }
    JobOptions::from_value(kind, Some(&Value::Struct(m))).map_err(|e| Failure::new(exit::CONFIG, e.0))
}

pub(super) async fn run(config: Arc<Config>, wiring: &dyn Wiring, args: RunArgs) -> Result<(), Failure> {
    let kind = args.job.kind();
    let backend = pick_backend(&config, args.backend.clone())?;
    let opts = options(kind, &args)?;
    let store = open_store(&config)?;
    let services = services(wiring, &config, &store).await?;
    let manager =
        RunManager::new(store.clone(), services.executor, Redactor::new(&config.secrets()), RunSettings::default());
    manager.recover().await.map_err(|e| Failure::new(exit::STORE, e.to_string()))?;
    let started = match manager.start(&backend, kind, opts).await {
        Ok(s) => s,
        Err(StartError::ShuttingDown) => return Err(Failure::new(exit::FAILED, "shutting down")),
        Err(StartError::Store(e)) => return Err(Failure::new(exit::STORE, e.to_string())),
    };
    if started.existing {
        return Err(Failure::new(
            exit::FAILED,
            format!(
                "run {} ({kind} on {backend}) is already queued or running in another process; not starting a second one",
                started.id
            ),
        ));
    }
    let id = started.id;
    let bar = ProgressBar::new(0).with_prefix(format!("run {id} {kind}"));
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut cancel_sent = false;
    let row = loop {
        let row = match store.runs().get(id).await {
            Ok(Some(r)) => r,
            Ok(None) => return Err(Failure::new(exit::STORE, format!("run {id} vanished from the state file"))),
            Err(e) => return Err(Failure::new(exit::STORE, e.to_string())),
        };
        bar.set_length(row.total);
        bar.set_position(row.done.min(row.total));
        bar.set_message(format!(
            "{} · created {} updated {} skipped {} failed {}",
            row.state, row.created, row.updated, row.skipped, row.failed
        ));
        if !row.state.is_active() {
            break row;
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            r = tokio::signal::ctrl_c(), if !cancel_sent => {
                if r.is_ok() {
                    cancel_sent = true;
                    bar.println("cancelling: the run stops at the next record boundary");
                    manager.cancel(id).await.map_err(|e| Failure::new(exit::STORE, e.to_string()))?;
                }
            }
        }
    };
    bar.finish_and_clear();
    print_summary(&store, &row).await.map_err(|e| Failure::new(exit::STORE, e.to_string()))?;
    match row.state {
        RunState::Done => Ok(()),
        RunState::Cancelled => Err(Failure::new(exit::FAILED, format!("run {id} was cancelled"))),
        _ => Err(Failure::new(
            exit::FAILED,
            format!("run {id} failed: {}", row.error.as_deref().unwrap_or("no reason recorded")),
        )),
    }
}

/// Prints the summary table of a finished run.
pub(super) async fn print_summary(store: &Store, run: &RunRow) -> Result<(), crate::store::StoreError> {
    let runs = store.runs();
    let (planned, _) = runs.records(run.id, Some(Outcome::Planned), 0, 0).await?;
    let dry = if run.dry_run { " (dry run)" } else { "" };
    println!("run {}: {} on backend {} — {}{dry}", run.id, run.kind, run.backend, run.state);
    println!("  {:<10}{:>8} of {} ({}%)", "records", run.done, run.total, run.percent());
    for (label, n) in [
        ("created", run.created),
        ("updated", run.updated),
        ("skipped", run.skipped),
        ("failed", run.failed),
        ("planned", planned),
    ] {
        println!("  {label:<10}{n:>8}");
    }
    if let Some(e) = &run.error {
        println!("  error: {e}");
    }
    let messages = runs.events(run.id, 10).await?;
    if !messages.is_empty() {
        println!("  messages:");
        for m in &messages {
            println!("    {} {:<5} {}", value::format_datetime(&m.at), m.level, m.text);
        }
    }
    let (failed, records) = runs.records(run.id, Some(Outcome::Failed), 0, 20).await?;
    if failed > 0 {
        println!("  failed records ({} of {failed}):", records.len());
        for r in &records {
            println!("    {} {}: {}", r.kind, r.reference, r.message);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::JobArg;

    fn args(job: JobArg) -> RunArgs {
        RunArgs {
            job,
            backend: None,
            dry_run: false,
            full: false,
            ids: vec![],
            stores: vec![],
            since: None,
            increment_ids: vec![],
        }
    }

    #[test]
    fn flags_become_options_and_foreign_flags_are_refused() {
        let mut a = args(JobArg::Products);
        a.ids = vec![4, 7];
        a.full = true;
        let o = options(JobKind::Products, &a).unwrap();
        assert_eq!((o.ids, o.full, o.dry_run), (Some(vec![4, 7]), true, false));
        let mut a = args(JobArg::Orders);
        a.full = true;
        let e = options(JobKind::OrdersImport, &a).unwrap_err();
        assert_eq!(e.code, exit::CONFIG);
        assert!(e.message.contains("--full") && e.message.contains("--increment-ids"), "{}", e.message);
        let mut a = args(JobArg::Orders);
        a.since = Some("not a date".into());
        assert!(options(JobKind::OrdersImport, &a).unwrap_err().message.contains("`since`"));
    }
}
