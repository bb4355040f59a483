//! Deployment windows: when a change may be deployed to an environment. Settings name, per
//! environment, recurring maintenance windows in a time zone (a deployment must fall inside one)
//! and change freezes as RFC 3339 periods (no deployment from `start` until `end`). The
//! deployment time is the evaluation time. Time zones are compiled into the policy (every IANA
//! zone of tzdata, packed in `windows/zones.rs`, as the POSIX TZ rule it follows today, or any POSIX
//! TZ rule such as `AEST-10AEDT,M10.1.0,M4.1.0/3`), so every host decides alike; historical
//! transitions are not carried, since windows are judged at the evaluation time.

use std::collections::BTreeMap;
use std::fmt;

#[cfg(feature = "serde-reference")]
use serde::Deserialize;
use serde::Serialize;
use tollgate_manifest::Timestamp;

use crate::SettingsError;

/// Deployment windows and change freezes by environment name (exact match with
/// `change.environment`); an environment not listed may be deployed at any time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "serde-reference", derive(Deserialize))]
#[serde(transparent)]
pub struct DeploymentWindows(pub BTreeMap<String, EnvironmentWindows>);

/// When one environment may be deployed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "serde-reference", derive(Deserialize))]
#[serde(deny_unknown_fields)]
pub struct EnvironmentWindows {
    /// IANA time zone of the recurring windows, for example `America/New_York`. Default: `UTC`.
    #[serde(default = "utc")]
    pub time_zone: String,
    /// Recurring maintenance windows; when any is listed, a deployment must fall inside one.
    /// Default: none (any time outside a freeze).
    #[serde(default)]
    pub windows: Vec<RecurringWindow>,
    /// Change freezes: no deployment during any of them. Default: none.
    #[serde(default)]
    pub freezes: Vec<Freeze>,
}

mod posix;
mod zones;

pub use posix::{LocalTime, TimeZone};

pub use zones::{TZDATA_VERSION, names as zone_names};

/// The time zone `name`: an IANA zone or link of tzdata ([`zone_names`]), or a POSIX TZ rule
/// (`EST5EDT,M3.2.0,M11.1.0`).
pub fn time_zone(name: &str) -> Option<TimeZone> {
    let rule = zones::rule(name).unwrap_or(name);
    // A POSIX TZ rule names an offset; a bare word (`Mars/Olympus`) does not.
    if !rule.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    TimeZone::parse(rule)
}

fn utc() -> String {
    "UTC".to_owned()
}

impl Default for EnvironmentWindows {
    fn default() -> Self {
        Self {
            time_zone: utc(),
            windows: Vec::new(),
            freezes: Vec::new(),
        }
    }
}

/// A weekly maintenance window in the environment's time zone. An `end` at or before `start`
/// closes the window on the next day (`22:00`-`02:00`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "serde-reference", derive(Deserialize))]
#[serde(deny_unknown_fields)]
pub struct RecurringWindow {
    /// Days on which the window opens. Required, non-empty.
    pub days: Vec<Weekday>,
    /// Opening time, `HH:MM` (inclusive).
    pub start: String,
    /// Closing time, `HH:MM` (exclusive; `24:00` is midnight at the end of the day).
    pub end: String,
}

/// A change freeze: from `start` (inclusive) until `end` (exclusive), both RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "serde-reference", derive(Deserialize))]
#[serde(deny_unknown_fields)]
pub struct Freeze {
    /// When the freeze begins.
    pub start: Timestamp,
    /// When it ends.
    pub end: Timestamp,
    /// Why, for example `year-end close`. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Days of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "serde-reference", derive(Deserialize))]
#[serde(rename_all = "lowercase")]
#[expect(missing_docs, reason = "the days of the week")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    /// Every day, from Monday.
    pub(crate) const ALL: [Weekday; 7] = [
        Self::Mon,
        Self::Tue,
        Self::Wed,
        Self::Thu,
        Self::Fri,
        Self::Sat,
        Self::Sun,
    ];

    fn from_monday_zero(index: u8) -> Self {
        Self::ALL[usize::from(index) % 7]
    }

    fn previous(self) -> Self {
        let index = Self::ALL.iter().position(|d| *d == self).unwrap_or(0);
        Self::ALL[(index + 6) % 7]
    }
}

impl Weekday {
    /// The lowercase three-letter name, as settings spell it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Mon => "mon",
            Self::Tue => "tue",
            Self::Wed => "wed",
            Self::Thu => "thu",
            Self::Fri => "fri",
            Self::Sat => "sat",
            Self::Sun => "sun",
        }
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Minutes since midnight of `HH:MM` (`24:00` is 1440).
fn minutes(text: &str) -> Option<u32> {
    let (hours, mins) = text.split_once(':')?;
    if hours.len() != 2 || mins.len() != 2 {
        return None;
    }
    let (hours, mins): (u32, u32) = (hours.parse().ok()?, mins.parse().ok()?);
    match (hours, mins) {
        (24, 0) => Some(1440),
        (0..=23, 0..=59) => Some(hours * 60 + mins),
        _ => None,
    }
}

/// Whether a deployment now is allowed, as [`DeploymentWindows::status`] decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowStatus {
    /// Nothing is configured for the environment.
    Unrestricted,
    /// Allowed; why.
    Open(String),
    /// Not allowed.
    Closed {
        /// `deployment-in-change-freeze` or `deployment-outside-window`.
        rule: &'static str,
        /// Why.
        message: String,
    },
}

impl DeploymentWindows {
    /// Whether a deployment to `environment` at `now` falls inside its windows and outside its
    /// freezes.
    pub fn status(&self, environment: &str, now: Timestamp) -> WindowStatus {
        let Some(config) = self.0.get(environment) else {
            return WindowStatus::Unrestricted;
        };
        if let Some(freeze) = config
            .freezes
            .iter()
            .find(|f| f.start <= now && now < f.end)
        {
            return WindowStatus::Closed {
                rule: "deployment-in-change-freeze",
                message: format!(
                    "a deployment to `{environment}` at {now} falls in the change freeze from {} \
                     until {}{}",
                    freeze.start,
                    freeze.end,
                    freeze
                        .reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                ),
            };
        }
        if config.windows.is_empty() {
            return WindowStatus::Open(format!(
                "no change freeze of `{environment}` is in force at {now}"
            ));
        }
        let local = time_zone(&config.time_zone)
            .and_then(|tz| tz.local_time(now.seconds, i32::try_from(now.nanoseconds).unwrap_or(0)));
        let Some(local) = local else {
            return WindowStatus::Closed {
                rule: "deployment-outside-window",
                message: format!("{now} cannot be placed in time zone `{}`", config.time_zone),
            };
        };
        let day = Weekday::from_monday_zero(local.weekday_from_monday);
        let minute =
            u32::try_from(i32::from(local.hour) * 60 + i32::from(local.minute)).unwrap_or(0);
        let shown = format!(
            "{day} {:04}-{:02}-{:02} {:02}:{:02} {}",
            local.year, local.month, local.day, local.hour, local.minute, config.time_zone
        );
        for window in &config.windows {
            let (Some(start), Some(end)) = (minutes(&window.start), minutes(&window.end)) else {
                continue;
            };
            let inside = if start < end {
                window.days.contains(&day) && (start..end).contains(&minute)
            } else {
                (window.days.contains(&day) && minute >= start)
                    || (window.days.contains(&day.previous()) && minute < end)
            };
            if inside {
                return WindowStatus::Open(format!(
                    "a deployment to `{environment}` at {shown} is inside the maintenance window \
                     {} {}-{}",
                    days(&window.days),
                    window.start,
                    window.end
                ));
            }
        }
        WindowStatus::Closed {
            rule: "deployment-outside-window",
            message: format!(
                "a deployment to `{environment}` at {shown} is outside its maintenance windows ({})",
                config
                    .windows
                    .iter()
                    .map(|w| format!("{} {}-{}", days(&w.days), w.start, w.end))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        }
    }

    /// Rejects blank environments, unknown time zones, malformed times and empty periods.
    pub(crate) fn validate(&self) -> Result<(), SettingsError> {
        for (environment, config) in &self.0 {
            let place = format!("deployment_windows.{environment}");
            if environment.trim().is_empty() {
                return Err(SettingsError::new(
                    "deployment_windows",
                    "environment names must not be blank",
                ));
            }
            if time_zone(&config.time_zone).is_none() {
                return Err(SettingsError::new(
                    format!("{place}.time_zone"),
                    format!(
                        "unknown time zone `{}`, expected an IANA zone of tzdata {TZDATA_VERSION} \
                         (case-sensitive, for example `America/New_York`) or a POSIX TZ rule such \
                         as `EST5EDT,M3.2.0,M11.1.0`",
                        config.time_zone,
                    ),
                ));
            }
            for (index, window) in config.windows.iter().enumerate() {
                let place = format!("{place}.windows[{index}]");
                if window.days.is_empty() {
                    return Err(SettingsError::new(
                        format!("{place}.days"),
                        "list at least one day (`mon` ... `sun`)",
                    ));
                }
                for (field, value) in [("start", &window.start), ("end", &window.end)] {
                    if minutes(value).is_none() {
                        return Err(SettingsError::new(
                            format!("{place}.{field}"),
                            format!("`{value}` is not a time `HH:MM` (00:00 to 24:00)"),
                        ));
                    }
                }
                if minutes(&window.start) == minutes(&window.end) {
                    return Err(SettingsError::new(
                        format!("{place}.end"),
                        "must differ from `start` (a window of no time)",
                    ));
                }
            }
            for (index, freeze) in config.freezes.iter().enumerate() {
                if freeze.end <= freeze.start {
                    return Err(SettingsError::new(
                        format!("{place}.freezes[{index}].end"),
                        format!("must be after `start` ({})", freeze.start),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn days(days: &[Weekday]) -> String {
    days.iter()
        .map(Weekday::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows(json: &str) -> DeploymentWindows {
        let windows = crate::settings_json::decode_windows(json).unwrap();
        windows.validate().unwrap();
        windows
    }

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn rule(status: &WindowStatus) -> Option<&str> {
        match status {
            WindowStatus::Closed { rule, .. } => Some(rule),
            _ => None,
        }
    }

    #[test]
    fn recurring_window_in_a_time_zone_crosses_midnight() {
        let w = windows(
            r#"{"production": {"time_zone": "America/New_York",
                "windows": [{"days": ["tue", "thu"], "start": "22:00", "end": "02:00"}]}}"#,
        );
        // Tue 2026-06-02 22:30 EDT = Wed 02:30 UTC: inside.
        assert_eq!(
            rule(&w.status("production", at("2026-06-03T02:30:00Z"))),
            None
        );
        // Wed 01:59 EDT (after Tuesday's opening): inside; Wed 02:00 EDT: closed.
        assert_eq!(
            rule(&w.status("production", at("2026-06-03T05:59:00Z"))),
            None
        );
        assert_eq!(
            rule(&w.status("production", at("2026-06-03T06:00:00Z"))),
            Some("deployment-outside-window")
        );
        // Tue 21:59 EDT: closed; in winter (EST, Tue 2026-12-01 22:30) the window opens an hour later in UTC.
        assert_eq!(
            rule(&w.status("production", at("2026-06-03T01:59:00Z"))),
            Some("deployment-outside-window")
        );
        assert_eq!(
            rule(&w.status("production", at("2026-12-02T03:30:00Z"))),
            None
        );
        assert_eq!(
            w.status("staging", at("2026-06-03T12:00:00Z")),
            WindowStatus::Unrestricted
        );
    }

    #[test]
    fn posix_rules_and_every_listed_zone_resolve() {
        for name in zone_names() {
            assert!(time_zone(&name).is_some(), "{name}");
        }
        let posix = windows(
            r#"{"production": {"time_zone": "EST5EDT,M3.2.0,M11.1.0",
                "windows": [{"days": ["tue"], "start": "22:00", "end": "02:00"}]}}"#,
        );
        assert_eq!(
            rule(&posix.status("production", at("2026-06-03T02:30:00Z"))),
            None
        );
        assert!(time_zone("Mars/Olympus").is_none());
    }

    #[test]
    fn the_whole_tz_database_is_known_sorted_for_lookup() {
        let names: Vec<String> = zone_names().collect();
        assert!(names.len() > 500, "{}", names.len());
        assert!(names.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(names.first().map(String::as_str), Some("Africa/Abidjan"));
        assert_eq!(names.last().map(String::as_str), Some("Zulu"));
        assert_eq!(
            zones::rule("America/New_York"),
            Some("EST5EDT,M3.2.0,M11.1.0")
        );
        assert_eq!(
            zones::rule("Europe/London"),
            Some("GMT0BST,M3.5.0/1,M10.5.0")
        );
        assert_eq!(zones::rule("america/new_york"), None);
        // Every name is found, and no near miss of one that is not itself a name.
        let known: std::collections::BTreeSet<&str> = names.iter().map(String::as_str).collect();
        for name in &names {
            assert!(zones::rule(name).is_some(), "{name}");
            let mut misses = vec![format!("{name}x"), name[..name.len() - 1].to_owned()];
            let last = name.as_bytes()[name.len() - 1];
            for byte in [last - 1, last + 1] {
                misses.push(format!("{}{}", &name[..name.len() - 1], char::from(byte)));
            }
            for miss in misses.iter().filter(|miss| !known.contains(miss.as_str())) {
                assert_eq!(zones::rule(miss), None, "{miss}");
            }
        }
        assert_eq!(zones::rule(""), None);
        // Zones the first, hand-picked table lacked: half-hour and 45-minute offsets, links.
        for name in [
            "America/Argentina/Buenos_Aires",
            "America/St_Johns",
            "Asia/Kathmandu",
            "Europe/Kyiv",
            "US/Eastern",
            "Etc/GMT+5",
        ] {
            assert!(time_zone(name).is_some(), "{name}");
        }
        // Kathmandu is UTC+05:45 all year: a 10:00-11:00 window opens at 04:15 UTC.
        let w = windows(
            r#"{"production": {"time_zone": "Asia/Kathmandu",
                "windows": [{"days": ["mon"], "start": "10:00", "end": "11:00"}]}}"#,
        );
        assert_eq!(
            rule(&w.status("production", at("2026-06-01T04:20:00Z"))),
            None
        );
        assert_eq!(
            rule(&w.status("production", at("2026-06-01T04:10:00Z"))),
            Some("deployment-outside-window")
        );
        // St John's keeps daylight saving time: 10:00 NDT is 12:30 UTC in June.
        let w = windows(
            r#"{"production": {"time_zone": "America/St_Johns",
                "windows": [{"days": ["mon"], "start": "10:00", "end": "11:00"}]}}"#,
        );
        assert_eq!(
            rule(&w.status("production", at("2026-06-01T12:35:00Z"))),
            None
        );
        assert_eq!(
            rule(&w.status("production", at("2026-06-01T13:35:00Z"))),
            Some("deployment-outside-window")
        );
    }

    #[test]
    fn freeze_wins_over_window() {
        let w = windows(
            r#"{"production": {"windows": [{"days": ["mon","tue","wed","thu","fri","sat","sun"], "start": "00:00", "end": "24:00"}],
                "freezes": [{"start": "2026-12-15T00:00:00Z", "end": "2027-01-05T00:00:00Z", "reason": "year-end close"}]}}"#,
        );
        let status = w.status("production", at("2026-12-20T10:00:00Z"));
        assert_eq!(rule(&status), Some("deployment-in-change-freeze"));
        assert!(format!("{status:?}").contains("year-end close"));
        assert_eq!(
            rule(&w.status("production", at("2027-01-05T00:00:00Z"))),
            None
        );
    }

    #[test]
    fn invalid_windows_name_the_field() {
        for (json, field) in [
            (
                r#"{"production": {"time_zone": "Mars/Olympus"}}"#,
                "deployment_windows.production.time_zone",
            ),
            (
                r#"{"production": {"windows": [{"days": [], "start": "09:00", "end": "17:00"}]}}"#,
                "deployment_windows.production.windows[0].days",
            ),
            (
                r#"{"production": {"windows": [{"days": ["mon"], "start": "9:00", "end": "17:00"}]}}"#,
                "deployment_windows.production.windows[0].start",
            ),
            (
                r#"{"production": {"windows": [{"days": ["mon"], "start": "09:00", "end": "09:00"}]}}"#,
                "deployment_windows.production.windows[0].end",
            ),
            (
                r#"{"production": {"freezes": [{"start": "2026-12-15T00:00:00Z", "end": "2026-12-01T00:00:00Z"}]}}"#,
                "deployment_windows.production.freezes[0].end",
            ),
        ] {
            let windows = crate::settings_json::decode_windows(json).unwrap();
            assert_eq!(windows.validate().unwrap_err().field, field, "{json}");
        }
    }
}
