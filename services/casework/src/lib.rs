//! rcn-casework
