//! Golden tests from real captures (filled in below).
