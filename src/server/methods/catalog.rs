//! `catalog.*`: category and product export jobs.

use crate::rpc::Registry;
use crate::server::AppState;
use crate::server::jobs::JobKind;

use super::start_job;

pub(super) fn register(r: &mut Registry<AppState>) {
    r.method(
        "catalog.export_categories",
        "catalog.export_categories(backend, options) -> run id; options {ids?: [int], dry_run?, full?}",
        |s, c| start_job(s, c, JobKind::Categories),
    )
    .method(
        "catalog.export_products",
        "catalog.export_products(backend, options) -> run id; options {ids?: [int], dry_run?, full?}",
        |s, c| start_job(s, c, JobKind::Products),
    );
}
