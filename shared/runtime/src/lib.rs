//! rcn-runtime
