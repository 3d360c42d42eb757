//! The monitor's retention rules (the job is the kit's, `rcn_runtime::retention`): the two logs
//! of its dead-letter desk that hold person pseudonyms go `RCN_RETENTION_ACCESS_LOG_YEARS` after
//! they were written, as every other service's access log does (class `access_log`):
//! - `dead_letter_log`: who inspected, replayed or discarded a dead letter, why, and the person
//!   pseudonyms of the letter's payload;
//! - `privacy_questions`: the privacy officer's "who saw" questions asked of the monitor.
//!
//! The read models and figure counters (counts, durations, codes and times, nothing personal)
//! are never deleted. Only the monitor's own schema.

use rcn_runtime::retention::{AppendOnlyLog, Rule};

pub fn rules() -> Vec<Rule> {
    vec![
        AppendOnlyLog::DeadLetterLog.rule(),
        AppendOnlyLog::PrivacyQuestions.rule(),
    ]
}
