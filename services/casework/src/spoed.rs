//! Spoed (urgent) cases: a release this close, or an unexpected release, means same-day
//! handling, shown first everywhere.

use chrono::{Days, NaiveDate};
use rcn_contracts::notice::NoticeKind;

/// A release this close (in days) or an unexpected release makes a case spoed: same-day handling.
pub const SPOED_WITHIN_DAYS: u64 = 7;

/// Spoed: released unexpectedly, or release within [`SPOED_WITHIN_DAYS`] days of today.
pub fn is_spoed(kind: NoticeKind, release: Option<NaiveDate>, today: NaiveDate) -> bool {
    kind == NoticeKind::ReleasedUnexpectedly
        || release.is_some_and(|r| r <= today + Days::new(SPOED_WITHIN_DAYS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn spoed_means_release_within_a_week_or_unexpected() {
        let today = day("2026-11-23");
        assert!(is_spoed(
            NoticeKind::ReleasePlanned,
            Some(day("2026-11-30")),
            today
        ));
        assert!(!is_spoed(
            NoticeKind::ReleasePlanned,
            Some(day("2026-12-01")),
            today
        ));
        assert!(!is_spoed(NoticeKind::DetentionStarted, None, today));
        assert!(is_spoed(NoticeKind::ReleasedUnexpectedly, None, today));
    }
}
