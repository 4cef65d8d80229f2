//! (not built yet)

use crate::server::jobs::{JobError, NOT_AVAILABLE, Summary};
use crate::sync::env::JobEnv;

/// Runs the job.
pub async fn run(_env: &JobEnv) -> Result<Summary, JobError> {
    Err(JobError::failed(format!("the categories job is {NOT_AVAILABLE}")))
}
