//! Casework's state: what every part of casework works with (the pool, the region's subjects
//! and settings) and the day it reckons from. Its own module so the parts that use it (opening
//! cases, the API, claiming, the scheduler) depend on it, not on one another.
//!
//! It holds no logic of its own; the consumer (`cases`), the API and the scheduler are
//! `impl`s and functions elsewhere.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use rcn_contracts::deadlines::DeadlineRules;
use rcn_contracts::pseudonym::PseudonymKey;
use rcn_contracts::{Condition, Subjects};
use sqlx::PgPool;

use crate::settings::Settings;

/// One casework instance: what its consumer, API and scheduler share.
pub struct Casework {
    pub pool: PgPool,
    pub subjects: Subjects,
    /// The conditions every case gets: five by default, configurable per region.
    pub conditions: Vec<Condition>,
    /// When each condition is due, counted back from the release date (per region).
    pub deadlines: DeadlineRules,
    /// How many working days before its due date an open task raises a due-soon reminder.
    pub due_soon_working_days: u32,
    /// How often the scheduler looks for deadlines.
    pub scheduler_interval: Duration,
    /// Turns a BSN into the person pseudonym, for the privacy officer's questions; without it
    /// casework cannot find a person by BSN (and says so).
    pub pseudonyms: Option<PseudonymKey>,
}

impl Casework {
    /// Casework with the region's `settings`.
    pub fn new(pool: PgPool, subjects: Subjects, settings: &Settings) -> Self {
        Self {
            pool,
            subjects,
            conditions: settings.conditions.clone(),
            deadlines: settings.deadlines.clone(),
            due_soon_working_days: settings.due_soon_working_days,
            scheduler_interval: settings.scheduler_interval,
            pseudonyms: None,
        }
    }

    /// The same casework, finding persons with the region's pseudonym `key`.
    pub fn with_pseudonyms(mut self, key: Option<PseudonymKey>) -> Self {
        self.pseudonyms = key;
        self
    }
}

/// Today in the Netherlands: the day deadlines and spoed are reckoned from.
pub fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::Europe::Amsterdam)
        .date_naive()
}

impl std::fmt::Debug for Casework {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Casework")
            .field("conditions", &self.conditions)
            .finish_non_exhaustive()
    }
}
