//! The aftercare conditions (leefgebieden) a municipality arranges before release, and their
//! status. Five by default; a region may add social network as a sixth.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One aftercare condition: something that must be arranged for a person leaving detention.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// A valid ID document at release, or an appointment booked.
    Id,
    /// Onderdak: a place to sleep from day one.
    Housing,
    /// Income from day one: a benefit applied for, or work or day activity.
    Income,
    /// Debts mapped; debt help started where needed.
    Debts,
    /// Health insurance active at release; continuity of care where indicated.
    Care,
    /// Social network: an optional sixth domain some regions add.
    SocialNetwork,
}

impl Condition {
    /// The five conditions every region works with.
    pub const DEFAULT: [Condition; 5] = [
        Condition::Id,
        Condition::Housing,
        Condition::Income,
        Condition::Debts,
        Condition::Care,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Id => "id",
            Condition::Housing => "housing",
            Condition::Income => "income",
            Condition::Debts => "debts",
            Condition::Care => "care",
            Condition::SocialNetwork => "social_network",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::DEFAULT.as_slice(), &[Condition::SocialNetwork]]
            .concat()
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// Where a condition stands: `unknown → needs_action → in_progress → arranged`, or
/// `not_applicable` (with a reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConditionStatus {
    Arranged,
    InProgress,
    NeedsAction,
    #[default]
    Unknown,
    NotApplicable,
}

impl ConditionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::Arranged => "arranged",
            ConditionStatus::InProgress => "in_progress",
            ConditionStatus::NeedsAction => "needs_action",
            ConditionStatus::Unknown => "unknown",
            ConditionStatus::NotApplicable => "not_applicable",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Arranged,
            Self::InProgress,
            Self::NeedsAction,
            Self::Unknown,
            Self::NotApplicable,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    /// Whether the condition still needs work (it is neither arranged nor not applicable).
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Arranged | Self::NotApplicable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Condition::DEFAULT
            .into_iter()
            .chain([Condition::SocialNetwork])
        {
            assert_eq!(Condition::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(Condition::parse("weather"), None);
        for s in [
            "arranged",
            "in_progress",
            "needs_action",
            "unknown",
            "not_applicable",
        ] {
            assert_eq!(ConditionStatus::parse(s).unwrap().as_str(), s);
        }
    }

    #[test]
    fn only_arranged_and_not_applicable_are_closed() {
        assert!(!ConditionStatus::Arranged.is_open());
        assert!(!ConditionStatus::NotApplicable.is_open());
        assert!(ConditionStatus::Unknown.is_open());
        assert!(ConditionStatus::NeedsAction.is_open());
        assert!(ConditionStatus::InProgress.is_open());
    }
}
