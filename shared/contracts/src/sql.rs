//! The enums services store, as PostgreSQL `text` checked on both sides: a value is written as
//! its `as_str()` (the same word the JSON contract uses), and a stored word that names no variant
//! is a decode error that says which type and word, never a silent default. The tables add a
//! CHECK constraint listing the same words, so neither side can drift alone.
//!
//! Only compiled with the `sqlx` feature; this module declares types and never does I/O.
//! `sqlx::query!` reads such a column with a type override (`status AS "status: ConditionStatus"`)
//! and binds such a value as text (`status as ConditionStatus`).

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueRef, Postgres};

use crate::casework_api::{CaseStatus, CloseReason};
use crate::casework_events::{AssignmentChange, DeadlineKind};
use crate::dead_letters_api::DeadLetterAction;
use crate::events::{RoutingOutcomeKind, RoutingRule};
use crate::identity::Role;
use crate::procesregie_api::{
    ActionStatus, ApplicationStatus, IcoCloseReason, IcoStatus, SuggestionRule, SuggestionStatus,
    TriageOutcome,
};
use crate::{Condition, ConditionStatus, Gemeentecode, NoticeKind};

/// Implements the text mapping for an enum with `fn as_str(self) -> &'static str`. The variant
/// list must be complete: the exhaustive `match` below stops the build when a variant is missing.
macro_rules! stored_as_text {
    ($ty:ident { $($variant:ident),+ $(,)? }) => {
        impl $ty {
            /// Every variant, in the order of the stored words' CHECK constraint.
            pub const STORED: &'static [$ty] = &[$($ty::$variant),+];

            /// The variant whose stored word is `word`.
            pub fn from_stored(word: &str) -> Option<$ty> {
                // Exhaustive on purpose: a new variant must be added to the list above.
                let _complete = |v: $ty| match v { $($ty::$variant => ()),+ };
                Self::STORED.iter().copied().find(|v| v.as_str() == word)
            }
        }

        impl sqlx::Type<Postgres> for $ty {
            fn type_info() -> PgTypeInfo {
                <str as sqlx::Type<Postgres>>::type_info()
            }

            fn compatible(ty: &PgTypeInfo) -> bool {
                <str as sqlx::Type<Postgres>>::compatible(ty)
            }
        }

        impl PgHasArrayType for $ty {
            fn array_type_info() -> PgTypeInfo {
                <&str as PgHasArrayType>::array_type_info()
            }
        }

        impl sqlx::Encode<'_, Postgres> for $ty {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as sqlx::Encode<Postgres>>::encode(self.as_str(), buf)
            }
        }

        impl sqlx::Decode<'_, Postgres> for $ty {
            fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
                let word = <&str as sqlx::Decode<Postgres>>::decode(value)?;
                $ty::from_stored(word).ok_or_else(|| {
                    format!(concat!("stored value {:?} is not a ", stringify!($ty)), word).into()
                })
            }
        }
    };
}

stored_as_text!(NoticeKind {
    DetentionStarted,
    Update,
    ReleasePlanned,
    ReleaseDateChanged,
    ReleasedUnexpectedly,
    Transferred,
    Cancelled,
});
stored_as_text!(Condition {
    Id,
    Housing,
    Income,
    Debts,
    Care,
    SocialNetwork,
});
stored_as_text!(ConditionStatus {
    Unknown,
    NeedsAction,
    InProgress,
    Arranged,
    NotApplicable,
});
stored_as_text!(CaseStatus { Open, Closed });
stored_as_text!(CloseReason {
    Completed,
    Cancelled,
    MovedOutOfRegion,
    Deceased,
    Duplicate,
    Other,
});
stored_as_text!(Role {
    MunicipalStaff,
    RcnCoordinator,
    Procesregisseur,
    PrivacyOfficer,
    Administrator,
});
stored_as_text!(RoutingRule {
    BrpRegistration,
    AddressLookup,
    Pc4Table,
    Manual,
    NoRule,
});
stored_as_text!(RoutingOutcomeKind {
    Routed,
    OutOfRegion,
    Unroutable,
});
stored_as_text!(AssignmentChange {
    Claimed,
    Unclaimed,
    HandedOver,
    Reassigned,
    Lapsed,
});
stored_as_text!(DeadlineKind { DueSoon, Overdue });
stored_as_text!(DeadLetterAction {
    Inspected,
    Replayed,
    Discarded,
});
stored_as_text!(ApplicationStatus {
    Draft,
    Submitted,
    Triaged,
});
stored_as_text!(TriageOutcome {
    Ico,
    Advice,
    LocalTable,
    NotAccepted,
});
stored_as_text!(IcoStatus { Open, Closed });
stored_as_text!(IcoCloseReason {
    GoalReached,
    HandedBack,
    NoCooperation,
    MovedOutOfRegion,
    DetainedAgain,
    Deceased,
});
stored_as_text!(ActionStatus {
    Open,
    InProgress,
    Done,
    Cancelled,
});
stored_as_text!(SuggestionRule {
    RiskFlag,
    OpenConditionsNearRelease,
    SpoedOverdue,
});
stored_as_text!(SuggestionStatus {
    Open,
    Accepted,
    Dismissed,
});

/// A municipality code is stored as its text (`GM0392`) and checked again when read back.
impl sqlx::Type<Postgres> for Gemeentecode {
    fn type_info() -> PgTypeInfo {
        <str as sqlx::Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <str as sqlx::Type<Postgres>>::compatible(ty)
    }
}

impl PgHasArrayType for Gemeentecode {
    fn array_type_info() -> PgTypeInfo {
        <&str as PgHasArrayType>::array_type_info()
    }
}

impl sqlx::Encode<'_, Postgres> for Gemeentecode {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <&str as sqlx::Encode<Postgres>>::encode(self.as_str(), buf)
    }
}

impl sqlx::Decode<'_, Postgres> for Gemeentecode {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        let word = <&str as sqlx::Decode<Postgres>>::decode(value)?;
        Gemeentecode::parse(word)
            .map_err(|_| format!("stored value {word:?} is not a Gemeentecode").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored word is the JSON word: a row and an event never name one thing two ways.
    fn stored_words_are_the_json_words<T>(all: &[T])
    where
        T: Copy + serde::Serialize + std::fmt::Debug + PartialEq,
        T: StoredWord,
    {
        for v in all {
            let json = serde_json::to_value(v).unwrap();
            assert_eq!(json.as_str(), Some(v.word()), "{v:?}");
            assert_eq!(T::back(v.word()), Some(*v), "{v:?}");
        }
        assert_eq!(T::back("no such word"), None);
    }

    trait StoredWord: Sized {
        fn word(&self) -> &'static str;
        fn back(word: &str) -> Option<Self>;
    }

    macro_rules! words {
        ($($ty:ident),+) => {
            $(impl StoredWord for $ty {
                fn word(&self) -> &'static str { self.as_str() }
                fn back(word: &str) -> Option<Self> { $ty::from_stored(word) }
            })+
            #[test]
            fn every_stored_enum_round_trips_through_its_json_word() {
                $(stored_words_are_the_json_words($ty::STORED);)+
            }
        };
    }

    words!(
        NoticeKind,
        Condition,
        ConditionStatus,
        CaseStatus,
        CloseReason,
        Role,
        RoutingRule,
        RoutingOutcomeKind,
        AssignmentChange,
        DeadlineKind,
        ApplicationStatus,
        TriageOutcome,
        IcoStatus,
        IcoCloseReason,
        ActionStatus,
        SuggestionRule,
        SuggestionStatus
    );
}
