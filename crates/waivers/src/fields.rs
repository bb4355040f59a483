//! Field checks of waiver entries, run inside serde's visitors so that an error carries the
//! scalar's own line: non-empty strings and `YYYY-MM-DD` dates.

use std::fmt;

use serde::Deserializer;
use time::Date;
use time::macros::format_description;

/// Checks a string scalar inside the visitor, so that YAML errors carry the scalar's own line. The
/// check's error is text: serde makes it the deserializer's own error with `de::Error::custom`,
/// which keeps only a message.
struct StrCheck<F> {
    expecting: &'static str,
    check: F,
}

impl<'de, T, F: FnOnce(&str) -> Result<T, String>> serde::de::Visitor<'de> for StrCheck<F> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        (self.check)(v).map_err(E::custom)
    }
}

pub(crate) fn non_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_str(StrCheck {
        expecting: "a non-empty string",
        check: |text: &str| {
            if text.trim().is_empty() {
                Err("must not be empty".to_owned())
            } else {
                Ok(text.to_owned())
            }
        },
    })
}

pub(crate) fn date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
    deserializer.deserialize_str(StrCheck {
        expecting: "a date such as `2026-06-30`",
        check: |text: &str| {
            Date::parse(text.trim(), format_description!("[year]-[month]-[day]"))
                .map_err(|_| format!("`{text}` is not a date such as `2026-06-30`"))
        },
    })
}

pub(crate) fn optional_date<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Date>, D::Error> {
    date(deserializer).map(Some)
}
