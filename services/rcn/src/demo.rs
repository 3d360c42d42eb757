//! Synthetic release notices for `rcn run --demo` and benchmarks: valid BSNs, real Kennemerland
//! postcodes, some people from outside the region, some with no address at all, and every notice
//! kind, following each synthetic detainee through a plausible life cycle.
//!
//! The people are invented; any likeness to a real BSN is chance (the numbers only pass the
//! 11-proef). Never use this to generate data for production.

use chrono::{DateTime, Days, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rcn_contracts::notice::{
    Address, Contact, Detention, DetentionTitle, NoticeKind, Person, ReleaseType, RiskFlag,
    ScreenedCondition, Screening, Sender,
};
use rcn_contracts::region::RegionTable;
use rcn_contracts::{Bsn, ConditionStatus, Gemeentecode, Postcode, ReleaseNotice};

const FAMILY_NAMES: &[(&str, Option<&str>)] = &[
    ("Jansen", None),
    ("Vries", Some("de")),
    ("Bakker", None),
    ("Visser", None),
    ("Smit", None),
    ("Meer", Some("van der")),
    ("Bos", None),
    ("Dijk", Some("van")),
    ("Mulder", None),
    ("Yilmaz", None),
    ("El Amrani", None),
    ("Boer", Some("de")),
    ("Berg", Some("van den")),
    ("Kaya", None),
    ("Hoekstra", None),
];
const GIVEN_NAMES: &[&str] = &[
    "Piet", "Mohamed", "Kevin", "Sanne", "Dennis", "Anouk", "Emre", "Jeroen", "Fatima", "Ricardo",
    "Lisa", "Stefan",
];
const INSTITUTIONS: &[(&str, &str)] = &[
    ("PI-HAARLEM", "PI Haarlem"),
    ("PI-HEERHUGOWAARD", "PI Heerhugowaard"),
    ("PI-ZAANSTAD", "PI Zaanstad"),
    ("PI-NIEUWEGEIN", "PI Nieuwegein"),
];

/// A municipality outside Kennemerland, for people registered elsewhere.
const ELSEWHERE: &[&str] = &["GM0363", "GM0394", "GM0599", "GM0344"];

/// One synthetic detainee's episode, advanced a notice at a time.
#[derive(Debug, Clone)]
struct Episode {
    person: Person,
    institution: usize,
    started_on: NaiveDate,
    release_on: NaiveDate,
    notices_sent: u32,
    done: bool,
}

/// Generates a plausible stream of notices.
#[derive(Debug)]
pub struct DemoGenerator {
    rng: StdRng,
    region: RegionTable,
    episodes: Vec<Episode>,
    counter: u64,
    run_id: String,
}

impl DemoGenerator {
    pub fn new(region: RegionTable, seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            region,
            episodes: Vec::new(),
            counter: 0,
            run_id: format!("{seed:x}"),
        }
    }

    /// The next notice, dated `now`.
    pub fn next_notice(&mut self, now: DateTime<Utc>) -> ReleaseNotice {
        self.episodes.retain(|e| !e.done);
        let start_new = self.episodes.len() < 5 || self.rng.gen_bool(0.35);
        let today = now.date_naive();
        let index = if start_new {
            let episode = self.new_episode(today);
            self.episodes.push(episode);
            self.episodes.len() - 1
        } else {
            self.rng.gen_range(0..self.episodes.len())
        };
        let kind = self.next_kind(index, today);
        self.counter += 1;
        let e = &mut self.episodes[index];
        e.notices_sent += 1;
        let (code, name) = INSTITUTIONS[e.institution];
        let screening = screening(&mut self.rng, e.notices_sent);
        ReleaseNotice {
            notice_id: format!("demo-{}-{}", self.run_id, self.counter),
            kind,
            sent_at: now,
            sender: Sender {
                institution_code: code.into(),
                institution_name: name.into(),
                contact: Some(Contact {
                    name: "Casemanager".into(),
                    phone: Some("088-0000000".into()),
                    email: None,
                }),
            },
            person: e.person.clone(),
            detention: Detention {
                started_on: e.started_on,
                expected_release_on: Some(e.release_on),
                release_date_firm: e.notices_sent > 2,
                title: DetentionTitle::Sentence,
                release_type: Some(ReleaseType::EndOfSentence),
            },
            conditions: screening,
            risk_flags: if self.rng.gen_bool(0.15) {
                vec![RiskFlag::HighRecidivism]
            } else {
                vec![]
            },
            remarks: None,
        }
    }

    /// Picks the kind that fits where the episode is, and moves its dates as that kind says.
    fn next_kind(&mut self, index: usize, today: NaiveDate) -> NoticeKind {
        let roll: f64 = self.rng.r#gen();
        let e = &mut self.episodes[index];
        if e.notices_sent == 0 {
            return NoticeKind::DetentionStarted;
        }
        let kind = match (e.notices_sent, roll) {
            (1, r) if r < 0.5 => NoticeKind::Update,
            (1, _) => NoticeKind::ReleasePlanned,
            (_, r) if r < 0.35 => NoticeKind::ReleaseDateChanged,
            (_, r) if r < 0.55 => NoticeKind::Update,
            (_, r) if r < 0.70 => NoticeKind::Transferred,
            (_, r) if r < 0.80 => NoticeKind::ReleasedUnexpectedly,
            (_, r) if r < 0.88 => NoticeKind::Cancelled,
            _ => NoticeKind::ReleasePlanned,
        };
        match kind {
            NoticeKind::ReleaseDateChanged => e.release_on = e.release_on + Days::new(14),
            NoticeKind::Transferred => e.institution = (e.institution + 1) % INSTITUTIONS.len(),
            NoticeKind::ReleasedUnexpectedly => {
                e.release_on = today.max(e.started_on);
                e.done = true;
            }
            NoticeKind::Cancelled => e.done = true,
            _ => {}
        }
        if e.notices_sent >= 6 {
            e.done = true;
        }
        kind
    }

    fn new_episode(&mut self, today: NaiveDate) -> Episode {
        let rng = &mut self.rng;
        let (family, prefix) = FAMILY_NAMES[rng.gen_range(0..FAMILY_NAMES.len())];
        let dob = NaiveDate::from_ymd_opt(
            rng.gen_range(1960..2006),
            rng.gen_range(1..=12),
            rng.gen_range(1..=28),
        )
        .expect("a valid date");
        let started_on = today - Days::new(rng.gen_range(0..60));
        let release_on = started_on + Days::new(rng.gen_range(5..180));
        let (brp, address, no_fixed_abode) = self.whereabouts();
        let rng = &mut self.rng;
        Episode {
            person: Person {
                bsn: random_bsn(rng),
                family_name: family.into(),
                name_prefix: prefix.map(Into::into),
                given_names: Some(GIVEN_NAMES[rng.gen_range(0..GIVEN_NAMES.len())].into()),
                date_of_birth: dob,
                brp_municipality: brp,
                address,
                no_fixed_abode,
            },
            institution: rng.gen_range(0..INSTITUTIONS.len()),
            started_on,
            release_on,
            notices_sent: 0,
            done: false,
        }
    }

    /// Where the person lived: mostly registered in the region, some known only by address,
    /// some from elsewhere, a few with no fixed abode.
    fn whereabouts(&mut self) -> (Option<Gemeentecode>, Option<Address>, bool) {
        let roll: f64 = self.rng.r#gen();
        let entries = self.region.pc4_entries();
        let members: Vec<_> = entries
            .iter()
            .filter(|(_, _, kind)| kind.is_some())
            .collect();
        let neighbours: Vec<_> = entries
            .iter()
            .filter(|(_, _, kind)| kind.is_none())
            .collect();
        let address_in = |rng: &mut StdRng, pc4: u16| {
            let letters = ["AB", "CD", "EK", "GH", "JL", "MN", "PR", "TV"][rng.gen_range(0..8)];
            Address {
                postcode: Postcode::parse(&format!("{pc4}{letters}")).expect("a valid postcode"),
                house_number: rng.gen_range(1..250),
                house_letter: None,
                addition: None,
                city: None,
            }
        };
        if roll < 0.65 {
            let (pc4, code, _) = members[self.rng.gen_range(0..members.len())];
            (
                Some(code.clone()),
                Some(address_in(&mut self.rng, *pc4)),
                false,
            )
        } else if roll < 0.80 {
            let (pc4, _, _) = members[self.rng.gen_range(0..members.len())];
            (None, Some(address_in(&mut self.rng, *pc4)), false)
        } else if roll < 0.88 && !neighbours.is_empty() {
            let (pc4, _, _) = neighbours[self.rng.gen_range(0..neighbours.len())];
            (None, Some(address_in(&mut self.rng, *pc4)), false)
        } else if roll < 0.94 {
            let code = ELSEWHERE[self.rng.gen_range(0..ELSEWHERE.len())];
            (
                Some(Gemeentecode::parse(code).expect("a valid code")),
                None,
                false,
            )
        } else {
            (None, None, true)
        }
    }
}

fn screening(rng: &mut StdRng, notices_sent: u32) -> Screening {
    let mut pick = || {
        let statuses = [
            ConditionStatus::Unknown,
            ConditionStatus::NeedsAction,
            ConditionStatus::InProgress,
            ConditionStatus::Arranged,
        ];
        let upper = (notices_sent as usize + 1).min(statuses.len());
        Some(ScreenedCondition {
            status: statuses[rng.gen_range(0..upper)],
            note: None,
        })
    };
    Screening {
        id: pick(),
        housing: pick(),
        income: pick(),
        debts: pick(),
        care: pick(),
    }
}

/// A random BSN that passes the 11-proef.
pub fn random_bsn(rng: &mut impl Rng) -> Bsn {
    loop {
        let digits: Vec<u32> = (0..8).map(|_| rng.gen_range(0..10)).collect();
        let sum: u32 = digits
            .iter()
            .zip([9, 8, 7, 6, 5, 4, 3, 2])
            .map(|(d, w)| d * w)
            .sum();
        let check = sum % 11;
        if check == 10 {
            continue;
        }
        let s: String = digits
            .iter()
            .chain(std::iter::once(&check))
            .map(|d| char::from(b'0' + *d as u8))
            .collect();
        if let Ok(bsn) = Bsn::parse(&s) {
            return bsn;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use rcn_contracts::events::RoutingOutcome;

    use super::*;

    #[test]
    fn demo_notices_are_valid_varied_and_cover_every_kind_and_outcome() {
        let mut demo = DemoGenerator::new(RegionTable::kennemerland(), 7);
        let now: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
        let region = RegionTable::kennemerland();
        let mut kinds = HashSet::new();
        let (mut routed, mut out, mut unroutable) = (0, 0, 0);
        for _ in 0..2000 {
            let n = demo.next_notice(now);
            let json = serde_json::to_vec(&n).unwrap();
            let parsed = ReleaseNotice::from_json(&json).expect("round-trips through the contract");
            assert_eq!(
                parsed.problems(now.date_naive()),
                vec![],
                "{}",
                String::from_utf8_lossy(&json)
            );
            kinds.insert(n.kind.as_str());
            match rcn_router::rules::decide(&region, &n).outcome {
                RoutingOutcome::Routed { .. } => routed += 1,
                RoutingOutcome::OutOfRegion { .. } => out += 1,
                RoutingOutcome::Unroutable => unroutable += 1,
            }
        }
        assert_eq!(kinds.len(), NoticeKind::ALL.len(), "{kinds:?}");
        assert!(
            routed > 1000 && out > 50 && unroutable > 20,
            "routed {routed}, out {out}, unroutable {unroutable}"
        );
    }

    #[test]
    fn random_bsns_pass_the_11_proef() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..1000 {
            assert!(Bsn::parse(random_bsn(&mut rng).expose()).is_ok());
        }
    }
}
