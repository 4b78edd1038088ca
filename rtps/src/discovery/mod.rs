//! SPDP/SEDP discovery data.
