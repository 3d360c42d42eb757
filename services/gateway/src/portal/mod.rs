//! The staff portal: server-rendered Dutch pages for municipal staff, the RCN and the
//! procesregisseur, and how they sign in.

pub mod oidc;
