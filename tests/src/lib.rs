//! rcn-tests
