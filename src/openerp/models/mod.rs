//! Typed access to the OpenERP records the sync jobs need.
