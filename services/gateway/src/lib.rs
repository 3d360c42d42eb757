//! rcn-gateway
