//! rcn-router
