//! rcn
