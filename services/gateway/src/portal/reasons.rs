//! Why the portal reads a person's data: one reason per page, in Dutch, the one place they are
//! written. Every read a page asks of a service (casework, procesregie, the router) carries its
//! page's reason as `why`; the service keeps it in its access log beside who, role, organisation,
//! when and what, and the privacy officer's *Wie heeft ingezien* shows it as written here. So a
//! page view is logged with why by the services that answer it; the gateway keeps no log of its
//! own.
//!
//! A new page that shows personal data adds its [`Page`] here (and to [`Page::ALL`]); a reason
//! is one line of at most [`rcn_contracts::access_log::MAX_WHY`] characters (a test checks each
//! against the services' own rule).

/// A portal page that shows personal data it asks of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// `/casussen/{case_id}`: the case with its tasks and their history, the routing of its
    /// notices, and procesregie's suggestions, applications and ICO summaries.
    Case,
    /// `/taken`: the tasks the person holds.
    MyTasks,
    /// `/taken/gemeente` for municipal staff: their municipality's tasks.
    MunicipalityTasks,
    /// `/taken/gemeente` for the RCN and procesregie: the region's tasks.
    RegionTasks,
    /// `/routering`: the manual routing queue.
    RoutingQueue,
    /// `/aanmeldingen`: the applications for procesregie.
    Applications,
    /// `/aanmeldingen/{id}` and its form: one application.
    Application,
    /// `/triage`: the triage board.
    Triage,
    /// `/icos`: the ICOs.
    Icos,
    /// `/icos/{id}`: one ICO with its plan van aanpak.
    Ico,
}

impl Page {
    /// Every page, for the tests.
    pub const ALL: [Page; 10] = [
        Page::Case,
        Page::MyTasks,
        Page::MunicipalityTasks,
        Page::RegionTasks,
        Page::RoutingQueue,
        Page::Applications,
        Page::Application,
        Page::Triage,
        Page::Icos,
        Page::Ico,
    ];

    /// The reason as the page sends it (`why` of the request).
    pub fn why(self) -> Option<String> {
        Some(page_reason(self).to_owned())
    }
}

/// The reason `page` reads a person's data, as the access log keeps it and the privacy officer
/// reads it.
pub const fn page_reason(page: Page) -> &'static str {
    match page {
        Page::Case => "Casus bekijken",
        Page::MyTasks => "Eigen werkvoorraad",
        Page::MunicipalityTasks => "Werkvoorraad van de gemeente",
        Page::RegionTasks => "Werkvoorraad van de regio",
        Page::RoutingQueue => "Routeringswachtrij: meldingen zonder gemeente toewijzen",
        Page::Applications => "Overzicht van aanmeldingen voor procesregie",
        Page::Application => "Aanmelding voor procesregie bekijken of bewerken",
        Page::Triage => "Triage van aanmeldingen voor procesregie",
        Page::Icos => "Overzicht van ICO's",
        Page::Ico => "ICO bekijken",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pages_reason_passes_the_services_rule_and_tells_the_pages_apart() {
        let mut seen = std::collections::HashSet::new();
        for page in Page::ALL {
            let reason = page_reason(page);
            assert_eq!(
                rcn_contracts::access_log::read_why(Some(reason)),
                Ok(Some(reason)),
                "{page:?}: one trimmed line the services accept"
            );
            assert!(!reason.starts_with("portal:"), "{page:?} is in Dutch");
            assert!(seen.insert(reason), "{page:?} has a reason of its own");
        }
    }
}
