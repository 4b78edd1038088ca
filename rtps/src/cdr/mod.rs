//! Plain CDR (XCDR1) serde support. See the submodules.
