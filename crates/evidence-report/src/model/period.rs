//! The report's period and the security scans in words, for readers rather than parsers: whole
//! days as `2026-11-06 to 2026-12-05` (both included), scans as `completed: 0 critical, 2 high,
//! 1 medium, 4 low`.

use serde_json::Value;
use tollgate_manifest::Timestamp;

const DAY: i64 = 86_400;

/// Whether an instant is midnight UTC.
fn is_midnight(at: Timestamp) -> bool {
    at.seconds.rem_euclid(DAY) == 0 && at.nanoseconds == 0
}

/// `YYYY-MM-DD` of an instant (UTC).
fn date(at: Timestamp) -> String {
    at.to_string().chars().take(10).collect()
}

/// `YYYY-MM-DD HH:MM:SS UTC` of an instant, to the second.
fn date_time(at: Timestamp) -> String {
    let text = at.to_string();
    format!(
        "{} {} UTC",
        text.chars().take(10).collect::<String>(),
        text.chars().skip(11).take(8).collect::<String>()
    )
}

/// The period `[from, to)` in words: whole UTC days as `2026-11-06 to 2026-12-05, both days
/// included (UTC)` (one day as `2026-12-05 (UTC)`); other bounds to the second, saying the end is
/// excluded.
pub fn period_in_words(from: Timestamp, to: Timestamp) -> String {
    if is_midnight(from) && is_midnight(to) && to.seconds > from.seconds {
        let last = Timestamp {
            seconds: to.seconds - DAY,
            nanoseconds: 0,
        };
        if last.seconds == from.seconds {
            return format!("{} (UTC)", date(from));
        }
        return format!("{} to {}, both days included (UTC)", date(from), date(last));
    }
    format!(
        "{} up to, not including, {}",
        date_time(from),
        date_time(to)
    )
}

/// A recorded security scan summary in words: `completed: 0 critical, 2 high, 1 medium, 4 low`, or
/// `not completed: ...`; `none` without a scan. Counts absent from the record read as 0.
pub fn scan_in_words(scan: Option<&Value>) -> String {
    let Some(scan) = scan.filter(|s| !s.is_null()) else {
        return "none".to_owned();
    };
    let count = |key: &str| scan.get(key).and_then(Value::as_u64).unwrap_or(0);
    let completed = scan.get("completed").and_then(Value::as_bool) == Some(true);
    format!(
        "{}: {} critical, {} high, {} medium, {} low",
        if completed {
            "completed"
        } else {
            "not completed"
        },
        count("critical"),
        count("high"),
        count("medium"),
        count("low")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn whole_days_read_as_dates_both_included() {
        assert_eq!(
            period_in_words(at("2026-11-06T00:00:00Z"), at("2026-12-06T00:00:00Z")),
            "2026-11-06 to 2026-12-05, both days included (UTC)"
        );
        assert_eq!(
            period_in_words(at("2026-12-05T00:00:00Z"), at("2026-12-06T00:00:00Z")),
            "2026-12-05 (UTC)"
        );
    }

    #[test]
    fn other_bounds_read_to_the_second_with_the_end_excluded() {
        assert_eq!(
            period_in_words(
                at("2026-11-06T00:09:01.551659Z"),
                at("2026-12-06T00:09:01.551659Z")
            ),
            "2026-11-06 00:09:01 UTC up to, not including, 2026-12-06 00:09:01 UTC"
        );
    }

    #[test]
    fn scans_read_as_counts() {
        let scan =
            serde_json::json!({"completed": true, "critical": 0, "high": 2, "medium": 1, "low": 4});
        assert_eq!(
            scan_in_words(Some(&scan)),
            "completed: 0 critical, 2 high, 1 medium, 4 low"
        );
        let partial = serde_json::json!({"completed": false, "high": 1});
        assert_eq!(
            scan_in_words(Some(&partial)),
            "not completed: 0 critical, 1 high, 0 medium, 0 low"
        );
        assert_eq!(scan_in_words(None), "none");
        assert_eq!(scan_in_words(Some(&Value::Null)), "none");
    }
}
