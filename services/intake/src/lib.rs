//! rcn-intake
