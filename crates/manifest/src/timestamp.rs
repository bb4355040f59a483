//! RFC 3339 timestamps carried as seconds and nanoseconds since the Unix epoch.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A UTC instant with nanosecond precision, written as RFC 3339 text (`2026-05-20T09:12:00Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    pub seconds: i64,
    /// Nanoseconds within the second.
    pub nanoseconds: u32,
}

/// A text that is not an RFC 3339 timestamp, or an instant outside the supported range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an RFC 3339 timestamp such as `2026-05-20T09:12:00Z`")]
pub struct TimestampError {
    text: String,
}

impl Timestamp {
    /// Parses RFC 3339 text; the offset is applied and the result is UTC.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let parsed = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| TimestampError {
            text: text.to_owned(),
        })?;
        Ok(Self::from_offset_date_time(parsed))
    }

    /// The current UTC time, to the second: the default evaluation time of hosts. (Not for
    /// `wasm32-unknown-unknown`, which has no clock: the browser passes its own time.)
    pub fn now() -> Self {
        let now = OffsetDateTime::now_utc();
        Self {
            seconds: now.unix_timestamp(),
            nanoseconds: 0,
        }
    }

    /// Converts from a `time` instant.
    pub fn from_offset_date_time(instant: OffsetDateTime) -> Self {
        Self {
            seconds: instant.unix_timestamp(),
            nanoseconds: instant.nanosecond(),
        }
    }

    /// Builds a timestamp from Unix seconds and nanoseconds, if the instant can be represented.
    pub fn from_parts(seconds: i64, nanoseconds: u32) -> Option<Self> {
        let instant = OffsetDateTime::from_unix_timestamp(seconds).ok()?;
        instant.replace_nanosecond(nanoseconds).ok()?;
        Some(Self {
            seconds,
            nanoseconds,
        })
    }

    fn to_offset_date_time(self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp(self.seconds)
            .ok()?
            .replace_nanosecond(self.nanoseconds)
            .ok()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self
            .to_offset_date_time()
            .and_then(|t| t.format(&Rfc3339).ok())
        {
            Some(text) => f.write_str(&text),
            None => write!(f, "@{}.{:09}", self.seconds, self.nanoseconds),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Rfc3339Visitor;

        impl serde::de::Visitor<'_> for Rfc3339Visitor {
            type Value = Timestamp;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp")
            }

            // Validating here, not after deserializing, keeps the scalar's position in errors.
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Timestamp, E> {
                Timestamp::parse(text).map_err(E::custom)
            }
        }

        deserializer.deserialize_str(Rfc3339Visitor)
    }
}

impl JsonSchema for Timestamp {
    fn schema_name() -> Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339 date and time, for example `2026-05-20T09:12:00Z`."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_utc_text() {
        let ts = Timestamp::parse("2026-05-20T09:12:00Z").unwrap();
        assert_eq!(ts.to_string(), "2026-05-20T09:12:00Z");
        assert_eq!(ts.seconds, 1_779_268_320);
    }

    #[test]
    fn applies_offsets() {
        let a = Timestamp::parse("2026-05-20T11:12:00+02:00").unwrap();
        let b = Timestamp::parse("2026-05-20T09:12:00Z").unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn rejects_dates_without_time() {
        assert!(Timestamp::parse("2026-05-20").is_err());
    }
}
