//! A posted form (`application/x-www-form-urlencoded`), read by field name: repeated fields
//! (the checkboxes of a bulk claim) come out as a list. Every staff form is checked against the
//! session's CSRF token before any field is used.

use crate::portal::page::PortalError;
use crate::portal::session::{self, Staff};

/// The most bytes a portal form may have (a bulk claim of 200 tasks fits easily).
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// The fields of a posted form, in order.
#[derive(Debug, Default)]
pub struct FormData(Vec<(String, String)>);

impl FormData {
    pub fn parse(body: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The form, when it carries this session's CSRF token; otherwise nothing may happen.
pub fn checked(staff: &Staff, body: &[u8]) -> Result<FormData, PortalError> {
    let form = FormData::parse(body);
    if !session::csrf_ok(staff, form.get("csrf")) {
        tracing::warn!(user = %staff.identity.user_id, "portal form refused: CSRF token missing or wrong");
        return Err(PortalError::Csrf);
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_fields_are_kept_and_blanks_are_absent() {
        let f = FormData::parse(b"taak=a%3Aid&taak=b%3Acare&note=+&naam=Anna+de+Vries");
        assert_eq!(f.all("taak").collect::<Vec<_>>(), ["a:id", "b:care"]);
        assert_eq!(f.get("note"), None);
        assert_eq!(f.get("naam"), Some("Anna de Vries"));
    }
}
