//! SPDP/SEDP discovery data.

pub mod data;
