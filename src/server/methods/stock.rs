//! `stock.*`: stock export job.

use crate::rpc::Registry;
use crate::server::AppState;
use crate::server::jobs::JobKind;

use super::start_job;

pub(super) fn register(r: &mut Registry<AppState>) {
    r.method(
        "stock.export",
        "stock.export(backend, options) -> run id; options {ids?: [int], dry_run?, full?}",
        |s, c| start_job(s, c, JobKind::Stock),
    );
}
