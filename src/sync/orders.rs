//! (not built yet)

use crate::server::jobs::{JobError, NOT_AVAILABLE, Summary};
use crate::sync::env::JobEnv;

/// Imports new orders.
pub async fn import(_env: &JobEnv) -> Result<Summary, JobError> {
    Err(JobError::failed(format!("the order import is {NOT_AVAILABLE}")))
}

/// Imports broken orders again.
pub async fn reimport(_env: &JobEnv) -> Result<Summary, JobError> {
    Err(JobError::failed(format!("the broken-order re-import is {NOT_AVAILABLE}")))
}
