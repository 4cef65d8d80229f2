//! OpenERP side: the external-API client, value quirks and field profiles.
