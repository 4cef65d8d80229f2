//! Sync jobs.
