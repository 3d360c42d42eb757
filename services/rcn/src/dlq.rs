//! The operator's view of the dead-letter queue (`rcn dlq …`): the kit's one implementation
//! ([`rcn_runtime::dlq`]), which the RCN's dead-letter desk in the portal uses as well.

pub use rcn_runtime::dlq::{DeadLetter, DlqError, discard, get, list, replay};
