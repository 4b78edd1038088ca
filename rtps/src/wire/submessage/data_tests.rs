//! Tests of DATA and DATA_FRAG.
