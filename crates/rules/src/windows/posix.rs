//! POSIX TZ rules (`EST5EDT,M3.2.0,M11.1.0`, with the IANA v3+ extension of signed transition
//! hours up to 167), parsed and applied exactly as jiff 1.0 does (`jiff::tz::TimeZone::posix` and
//! `TimeZone::to_datetime`): the same rules accepted, the same local time for every instant jiff
//! represents. Not jiff itself: its internal `unwrap`s linked the `Debug` code of every bounded
//! integer it has, about 40 KB of each policy module. A test compares the two.

/// Seconds in a day.
const DAY: i64 = 86_400;
/// The instants jiff represents, in seconds since the Unix epoch.
const FIRST_SECOND: i64 = -377_705_023_201;
const LAST_SECOND: i64 = 253_402_207_200;
/// The longest abbreviation jiff reads (with `alloc`).
const ABBREVIATION_MAX: usize = 255;

/// A parsed POSIX TZ rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZone {
    /// Standard time's offset from UTC, in seconds east.
    std_offset: i32,
    dst: Option<Dst>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Dst {
    /// Daylight saving time's offset from UTC, in seconds east.
    offset: i32,
    start: DayTime,
    end: DayTime,
}

/// When in a year a transition happens: a day and a time of that day (local, in seconds; may be
/// negative or past midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DayTime {
    day: Day,
    second: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Day {
    /// `Jn`: 1 to 365, February 29 never counted.
    JulianOne(i16),
    /// `n`: 0 to 365, February 29 counted.
    JulianZero(i16),
    /// `Mm.w.d`: weekday `d` (0 Sunday) of week `w` (5: the last) of month `m`.
    WeekdayOfMonth { month: i8, week: i8, weekday: i8 },
}

/// A point on a time line (an instant, or a civil time read as if it were UTC): seconds since
/// 1970-01-01 and nanoseconds, 0 to 999,999,999 (no 128-bit arithmetic in the policy modules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Moment(i64, i32);

impl Moment {
    fn days(self) -> i64 {
        self.0.div_euclid(DAY)
    }

    fn plus_seconds(self, seconds: i32) -> Self {
        Self(self.0 + i64::from(seconds), self.1)
    }
}

/// A local date and time, as a policy reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// Year (`-9999` to `9999`).
    pub year: i16,
    /// Month, 1 to 12.
    pub month: i8,
    /// Day of the month, from 1.
    pub day: i8,
    /// Hour, 0 to 23.
    pub hour: i8,
    /// Minute, 0 to 59.
    pub minute: i8,
    /// Day of the week, 0 (Monday) to 6 (Sunday).
    pub weekday_from_monday: u8,
}

impl TimeZone {
    /// Parses a POSIX TZ rule as jiff does; `None` when jiff would refuse it.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parser = Parser {
            bytes: text.as_bytes(),
            pos: 0,
        };
        let zone = parser.time_zone()?;
        parser.is_done().then_some(zone)
    }

    /// The local time of an instant (seconds and nanoseconds since the Unix epoch); `None` for
    /// an instant jiff cannot represent.
    pub fn local_time(&self, seconds: i64, nanoseconds: i32) -> Option<LocalTime> {
        let instant = instant(seconds, nanoseconds)?;
        let offset = self.offset_at(instant);
        let civil = instant.plus_seconds(offset);
        let days = civil.days();
        let second = civil.0.rem_euclid(DAY);
        let (year, month, day) = civil_from_days(days);
        Some(LocalTime {
            year: i16::try_from(year).ok()?,
            month: i8::try_from(month).ok()?,
            day: i8::try_from(day).ok()?,
            hour: i8::try_from(second / 3600).ok()?,
            minute: i8::try_from(second % 3600 / 60).ok()?,
            weekday_from_monday: u8::try_from((days + 3).rem_euclid(7)).ok()?,
        })
    }

    /// The offset (seconds east of UTC) in force at an instant.
    fn offset_at(&self, instant: Moment) -> i32 {
        let Some(dst) = &self.dst else {
            return self.std_offset;
        };
        let year = civil_from_days(instant.days()).0;
        let start = dst.start.civil(year, self.std_offset);
        let mut end = dst.end.civil(year, dst.offset);
        let (jan1, dec31_end) = year_bounds(year);
        if start == jan1 {
            let shifted = end.plus_seconds(self.std_offset);
            let shifted_year = civil_from_days(shifted.days()).0.clamp(-9999, 9999);
            if shifted_year != year {
                end = dec31_end;
            }
        }
        let in_dst = if start <= end {
            start <= instant && instant < end
        } else {
            !(end <= instant && instant < start)
        };
        if in_dst { dst.offset } else { self.std_offset }
    }
}

/// The instant of jiff's `Timestamp::new(seconds, nanoseconds)`, if it accepts it.
fn instant(seconds: i64, nanoseconds: i32) -> Option<Moment> {
    let valid = (FIRST_SECOND..=LAST_SECOND).contains(&seconds)
        && (-999_999_999..=999_999_999).contains(&nanoseconds)
        && !(seconds == FIRST_SECOND && nanoseconds < 0);
    valid.then(|| {
        if nanoseconds < 0 {
            Moment(seconds - 1, nanoseconds + 1_000_000_000)
        } else {
            Moment(seconds, nanoseconds)
        }
    })
}

/// The first and last nanosecond of a civil year.
fn year_bounds(year: i64) -> (Moment, Moment) {
    let first = Moment(days_from_civil(year, 1, 1) * DAY, 0);
    let last = Moment((days_from_civil(year, 12, 31) + 1) * DAY - 1, 999_999_999);
    (first, last)
}

impl DayTime {
    /// The transition in `year` as a civil UTC time, given the offset in force before it;
    /// clamped to the year as jiff clamps it.
    fn civil(self, year: i64, offset: i32) -> Moment {
        let (first, last) = year_bounds(year);
        let Some(date) = self.day.date(year) else {
            return last;
        };
        let seconds = i64::from(self.second) - i64::from(offset);
        let days = date + seconds.div_euclid(DAY);
        let second = seconds.rem_euclid(DAY);
        let moved = civil_from_days(days).0;
        if !(-9999..=9999).contains(&moved) {
            return if seconds < 0 { first } else { last };
        }
        if moved < year {
            first
        } else if moved > year {
            last
        } else {
            Moment(days * DAY + second, 0)
        }
    }
}

impl Day {
    /// The day in `year`, as days since 1970-01-01; `None` for day 365 of `n` in a common year.
    fn date(self, year: i64) -> Option<i64> {
        let jan1 = days_from_civil(year, 1, 1);
        match self {
            Self::JulianOne(day) => {
                let day = i64::from(day);
                let day = if day >= 60 && is_leap(year) {
                    day + 1
                } else {
                    day
                };
                Some(jan1 + day - 1)
            }
            Self::JulianZero(day) => {
                let day = i64::from(day) + 1;
                let length = if is_leap(year) { 366 } else { 365 };
                (day <= length).then_some(jan1 + day - 1)
            }
            Self::WeekdayOfMonth {
                month,
                week,
                weekday,
            } => {
                let month = i64::from(month);
                // Days since Sunday of a day number.
                let sunday_based = |days: i64| (days + 4).rem_euclid(7);
                let wanted = i64::from(weekday);
                if week == 5 {
                    let next = if month == 12 {
                        days_from_civil(year + 1, 1, 1)
                    } else {
                        days_from_civil(year, month + 1, 1)
                    };
                    let last = next - 1;
                    Some(last - (sunday_based(last) - wanted).rem_euclid(7))
                } else {
                    let first = days_from_civil(year, month, 1);
                    let diff = (wanted - sunday_based(first)).rem_euclid(7);
                    Some(first + diff + (i64::from(week) - 1) * 7)
                }
            }
        }
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date (year, month, day) of a day since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// jiff's POSIX TZ parser (IANA v3+ mode), step for step.
struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn is_done(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Moves past the current byte; whether another follows.
    fn bump(&mut self) -> bool {
        if self.is_done() {
            return false;
        }
        self.pos += 1;
        !self.is_done()
    }

    fn time_zone(&mut self) -> Option<TimeZone> {
        if self.is_done() {
            return None;
        }
        self.abbreviation()?;
        let std_offset = self.offset()?;
        let dst = match self.peek() {
            Some(byte) if byte.is_ascii_alphabetic() || byte == b'<' => Some(self.dst(std_offset)?),
            _ => None,
        };
        Some(TimeZone { std_offset, dst })
    }

    fn dst(&mut self, std_offset: i32) -> Option<Dst> {
        self.abbreviation()?;
        if self.is_done() {
            return None;
        }
        let mut offset = std_offset + 3600;
        if self.peek() != Some(b',') {
            offset = self.offset()?;
            if self.is_done() {
                return None;
            }
        }
        if self.peek() != Some(b',') || !self.bump() {
            return None;
        }
        let start = self.day_time()?;
        if self.peek() != Some(b',') || !self.bump() {
            return None;
        }
        let end = self.day_time()?;
        Some(Dst { offset, start, end })
    }

    fn abbreviation(&mut self) -> Option<()> {
        if self.peek() == Some(b'<') {
            if !self.bump() {
                return None;
            }
            let start = self.pos;
            while let Some(byte) = self.peek() {
                if !byte.is_ascii_alphanumeric() && byte != b'+' && byte != b'-' {
                    break;
                }
                if self.pos - start >= ABBREVIATION_MAX {
                    return None;
                }
                if !self.bump() {
                    break;
                }
            }
            let length = self.pos - start;
            if self.peek() != Some(b'>') {
                return None;
            }
            self.bump();
            (length >= 3).then_some(())
        } else {
            let start = self.pos;
            while let Some(byte) = self.peek() {
                if !byte.is_ascii_alphabetic() {
                    break;
                }
                if self.pos - start >= ABBREVIATION_MAX {
                    return None;
                }
                if !self.bump() {
                    break;
                }
            }
            (self.pos - start >= 3).then_some(())
        }
    }

    /// `[+|-]hh[:mm[:ss]]`, hours 0 to 24; positive west of UTC, so returned negated.
    fn offset(&mut self) -> Option<i32> {
        let sign = self.sign()?;
        let hour = self.up_to_digits(2).filter(|h| *h <= 24)?;
        let rest = self.minutes_seconds()?;
        let seconds = hour * 3600 + rest;
        Some(if sign > 0 { -seconds } else { seconds })
    }

    /// `[:mm[:ss]]` in seconds.
    fn minutes_seconds(&mut self) -> Option<i32> {
        let mut seconds = 0;
        if self.peek() == Some(b':') {
            if !self.bump() {
                return None;
            }
            seconds += self.exact_digits(2).filter(|m| *m <= 59)? * 60;
            if self.peek() == Some(b':') {
                if !self.bump() {
                    return None;
                }
                seconds += self.exact_digits(2).filter(|s| *s <= 59)?;
            }
        }
        Some(seconds)
    }

    /// An optional sign: 1 or -1.
    fn sign(&mut self) -> Option<i32> {
        match self.peek() {
            Some(b'-') => self.bump().then_some(-1),
            Some(b'+') => self.bump().then_some(1),
            _ => Some(1),
        }
    }

    fn day_time(&mut self) -> Option<DayTime> {
        let day = self.day()?;
        let mut second = 2 * 3600;
        if self.peek() == Some(b'/') {
            if !self.bump() {
                return None;
            }
            let sign = self.sign()?;
            let hour = self.up_to_digits(3).filter(|h| *h <= 167)?;
            second = (hour * 3600 + self.minutes_seconds()?) * sign;
        }
        Some(DayTime { day, second })
    }

    fn day(&mut self) -> Option<Day> {
        match self.peek()? {
            b'J' => {
                if !self.bump() {
                    return None;
                }
                let day = self.up_to_digits(3).filter(|d| (1..=365).contains(d))?;
                Some(Day::JulianOne(i16::try_from(day).ok()?))
            }
            b'0'..=b'9' => {
                let day = self.up_to_digits(3).filter(|d| *d <= 365)?;
                Some(Day::JulianZero(i16::try_from(day).ok()?))
            }
            b'M' => {
                if !self.bump() {
                    return None;
                }
                let month = self.up_to_digits(2).filter(|m| (1..=12).contains(m))?;
                if self.peek() != Some(b'.') || !self.bump() {
                    return None;
                }
                let week = self.exact_digits(1).filter(|w| (1..=5).contains(w))?;
                if self.peek() != Some(b'.') || !self.bump() {
                    return None;
                }
                let weekday = self.exact_digits(1).filter(|d| *d <= 6)?;
                Some(Day::WeekdayOfMonth {
                    month: i8::try_from(month).ok()?,
                    week: i8::try_from(week).ok()?,
                    weekday: i8::try_from(weekday).ok()?,
                })
            }
            _ => None,
        }
    }

    /// Exactly `n` decimal digits.
    fn exact_digits(&mut self, n: usize) -> Option<i32> {
        let mut number = 0;
        for _ in 0..n {
            let digit = self.peek().filter(u8::is_ascii_digit)?;
            number = number * 10 + i32::from(digit - b'0');
            self.bump();
        }
        Some(number)
    }

    /// One to `n` decimal digits.
    fn up_to_digits(&mut self, n: usize) -> Option<i32> {
        let mut number = 0;
        for i in 0..n {
            match self.peek().filter(u8::is_ascii_digit) {
                Some(digit) => number = number * 10 + i32::from(digit - b'0'),
                None if i == 0 => return None,
                None => break,
            }
            self.bump();
        }
        Some(number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// jiff's answer: the local time, or `None` when it refuses the rule or the instant.
    fn jiff_local(rule: &str, seconds: i64, nanoseconds: i32) -> Option<Option<LocalTime>> {
        let tz = jiff::tz::TimeZone::posix(rule).ok()?;
        Some(
            jiff::Timestamp::new(seconds, nanoseconds)
                .ok()
                .map(|instant| {
                    let local = tz.to_datetime(instant);
                    LocalTime {
                        year: local.year(),
                        month: local.month(),
                        day: local.day(),
                        hour: local.hour(),
                        minute: local.minute(),
                        weekday_from_monday: u8::try_from(local.weekday().to_monday_zero_offset())
                            .unwrap(),
                    }
                }),
        )
    }

    fn ours(rule: &str, seconds: i64, nanoseconds: i32) -> Option<Option<LocalTime>> {
        TimeZone::parse(rule).map(|tz| tz.local_time(seconds, nanoseconds))
    }

    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[usize::try_from(self.below(items.len() as u64)).unwrap()]
        }
    }

    /// Instants just before, at and after each transition of `year` as the rule places it (a
    /// misplaced transition shows as a disagreement there), and random ones around the year.
    fn instants(random: &mut Random, rule: &str, year: i64) -> Vec<(i64, i32)> {
        let mut out = Vec::new();
        let jan1 = days_from_civil(year, 1, 1) * DAY;
        for _ in 0..200 {
            let second =
                jan1 + i64::try_from(random.below(3 * 366 * 86_400)).unwrap() - 366 * 86_400;
            out.push((second, i32::try_from(random.below(1_000_000_000)).unwrap()));
        }
        let tz = TimeZone::parse(rule).unwrap();
        if let Some(dst) = &tz.dst {
            for (transition, offset) in [(dst.start, tz.std_offset), (dst.end, dst.offset)] {
                // A transition's civil UTC time is its instant.
                let Moment(second, _) = transition.civil(year, offset);
                for delta in [-3601, -3600, -1, 0, 1, 3599, 3600] {
                    out.push((second + delta, 0));
                    out.push((second + delta - 1, 999_999_999));
                }
            }
        }
        out
    }

    #[test]
    fn every_zone_agrees_with_jiff_around_its_transitions() {
        let mut random = Random(0x9E37_79B9_7F4A_7C15);
        let mut rules: Vec<&str> = super::super::zone_names()
            .filter_map(|name| super::super::zones::rule(&name))
            .collect();
        rules.sort_unstable();
        rules.dedup();
        for rule in rules {
            assert!(TimeZone::parse(rule).is_some(), "{rule}");
            for year in [1970, 2024, 2026, 2027, 2100] {
                for (seconds, nanos) in instants(&mut random, rule, year) {
                    assert_eq!(
                        ours(rule, seconds, nanos),
                        jiff_local(rule, seconds, nanos),
                        "{rule} at {seconds}.{nanos}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_ends_of_time_agree_with_jiff() {
        for rule in [
            "EST5EDT,M3.2.0,M11.1.0",
            "<+13>-13",
            "AEST-10AEDT,M10.1.0,M4.1.0/3",
            "XXX3YYY,J1/0,J365/25",
            "XXX-24:59:59YYY24,0/-167,365/167",
            "XXX24YYY,M1.1.0/0,M12.5.6/167",
        ] {
            for seconds in [
                FIRST_SECOND - 1,
                FIRST_SECOND,
                FIRST_SECOND + 1,
                FIRST_SECOND + 86_400 * 3,
                LAST_SECOND - 86_400 * 3,
                LAST_SECOND - 1,
                LAST_SECOND,
                LAST_SECOND + 1,
                0,
                -1,
            ] {
                for nanos in [0, 1, -1, 999_999_999, -999_999_999, 1_000_000_000] {
                    assert_eq!(
                        ours(rule, seconds, nanos),
                        jiff_local(rule, seconds, nanos),
                        "{rule} at {seconds}.{nanos}"
                    );
                }
            }
        }
    }

    #[test]
    fn random_rules_are_accepted_and_applied_as_jiff_does() {
        let mut random = Random(0x0123_4567_89AB_CDEF);
        let names = [
            "EST", "<+0330>", "<-03>", "ABCD", "A", "AB", "<AB>", "<A+B-C>", "", "<", "<ABC",
            "abc", "UTC", "<+>", "E1",
        ];
        let offsets = [
            "5", "-5", "+5", "0", "24", "25", "-24", "5:30", "5:3", "5:30:15", "5:60", "-3:30:59",
            "", "123", "05", "+", "-", "5:", "5:30:", "1:00:60",
        ];
        let days = [
            "M3.2.0", "M11.1.0", "M10.5.0", "M2.5.6", "M12.5.0", "M1.1.1", "M13.1.0", "M0.1.0",
            "M3.6.0", "M3.0.0", "M3.2.7", "M3.2", "M3", "M", "J1", "J59", "J60", "J365", "J0",
            "J366", "0", "59", "365", "366", "1000", "J", "M03.2.0", "M3.2.0.", "",
        ];
        let times = [
            "",
            "/2",
            "/0",
            "/-1",
            "/+1",
            "/25",
            "/167",
            "/168",
            "/-167",
            "/1:30",
            "/1:30:30",
            "/1:60",
            "/",
            "/-",
            "/24:00:00",
            "/02",
            "/002",
            "/0002",
        ];
        let mut seen = 0;
        for _ in 0..40_000 {
            let mut rule = String::new();
            rule.push_str(random.pick(&names));
            rule.push_str(random.pick(&offsets));
            if random.below(4) > 0 {
                rule.push_str(random.pick(&names));
                if random.below(2) == 0 {
                    rule.push_str(random.pick(&offsets));
                }
                if random.below(8) > 0 {
                    rule.push(',');
                    rule.push_str(random.pick(&days));
                    rule.push_str(random.pick(&times));
                    if random.below(8) > 0 {
                        rule.push(',');
                    }
                    rule.push_str(random.pick(&days));
                    rule.push_str(random.pick(&times));
                }
            }
            if random.below(20) == 0 {
                rule.push(['x', ',', '5', ' '][usize::try_from(random.below(4)).unwrap()]);
            }
            let year = [1970, 2000, 2023, 2024, 2100, -44, 9999, -9999]
                [usize::try_from(random.below(8)).unwrap()];
            let jan1 = days_from_civil(year, 1, 1) * DAY;
            let accepted = jiff::tz::TimeZone::posix(&rule).is_ok();
            assert_eq!(TimeZone::parse(&rule).is_some(), accepted, "{rule:?}");
            if accepted {
                seen += 1;
                for _ in 0..8 {
                    let seconds = jan1 + i64::try_from(random.below(366 * 86_400)).unwrap();
                    assert_eq!(
                        ours(&rule, seconds, 0),
                        jiff_local(&rule, seconds, 0),
                        "{rule} at {seconds}"
                    );
                }
            }
        }
        assert!(seen > 1000, "only {seen} rules accepted");
    }

    #[test]
    fn long_abbreviations_are_limited_as_jiff_limits_them() {
        for length in [254, 255, 256, 300] {
            for quoted in [false, true] {
                let name = "A".repeat(length);
                let name = if quoted { format!("<{name}>") } else { name };
                for rule in [format!("{name}5"), format!("EST5{name},M3.2.0,M11.1.0")] {
                    assert_eq!(
                        TimeZone::parse(&rule).is_some(),
                        jiff::tz::TimeZone::posix(&rule).is_ok(),
                        "{length} {quoted}"
                    );
                }
            }
        }
    }
}
