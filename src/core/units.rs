//! Slurm's time and memory notations, parsed the way Slurm reads them.
//!
//! Used by the policy loader (`max_time: 1-00:00:00`, `max_memory: 64G`) and
//! by anything that turns user input into a [`crate::engine::Component`].

use std::fmt;

/// A time limit in whole minutes, or no limit at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimeLimit {
    /// A finite limit, in minutes (Slurm rounds seconds up to a minute).
    Minutes(u32),
    /// `INFINITE` / `UNLIMITED`.
    Unlimited,
}

impl TimeLimit {
    /// Parses every form sbatch's `--time` accepts: `minutes`,
    /// `minutes:seconds`, `hours:minutes:seconds`, `days-hours`,
    /// `days-hours:minutes`, `days-hours:minutes:seconds`, and
    /// `INFINITE`/`UNLIMITED`. Seconds round up to the next minute.
    pub fn parse(text: &str) -> Result<TimeLimit, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("infinite") || text.eq_ignore_ascii_case("unlimited") {
            return Ok(TimeLimit::Unlimited);
        }
        let bad = || {
            format!(
                "'{text}' is not a Slurm time: use minutes, MM:SS, HH:MM:SS, D-HH, \
                 D-HH:MM, D-HH:MM:SS or UNLIMITED"
            )
        };
        let (days, clock) = match text.split_once('-') {
            Some((days, rest)) => (Some(parse_number(days).ok_or_else(bad)?), rest),
            None => (None, text),
        };
        let fields: Vec<u64> = clock
            .split(':')
            .map(parse_number)
            .collect::<Option<_>>()
            .ok_or_else(bad)?;
        let (hours, minutes, seconds) = match (days.is_some(), fields.as_slice()) {
            (false, [m]) => (0, *m, 0),
            (false, [m, s]) => (0, *m, *s),
            (false, [h, m, s]) => (*h, *m, *s),
            (true, [h]) => (*h, 0, 0),
            (true, [h, m]) => (*h, *m, 0),
            (true, [h, m, s]) => (*h, *m, *s),
            _ => return Err(bad()),
        };
        let total_seconds = days
            .unwrap_or(0)
            .checked_mul(86_400)
            .and_then(|d| d.checked_add(hours.checked_mul(3_600)?))
            .and_then(|t| t.checked_add(minutes.checked_mul(60)?))
            .and_then(|t| t.checked_add(seconds))
            .ok_or_else(bad)?;
        let minutes = total_seconds.div_ceil(60);
        u32::try_from(minutes)
            .ok()
            .filter(|m| *m < u32::MAX - 1)
            .map(TimeLimit::Minutes)
            .ok_or_else(|| format!("'{text}' is too long for a Slurm time limit"))
    }

    /// True when `self` is longer than `limit`.
    pub fn exceeds(self, limit: TimeLimit) -> bool {
        match (self, limit) {
            (_, TimeLimit::Unlimited) => false,
            (TimeLimit::Unlimited, TimeLimit::Minutes(_)) => true,
            (TimeLimit::Minutes(asked), TimeLimit::Minutes(max)) => asked > max,
        }
    }
}

impl fmt::Display for TimeLimit {
    /// Formats as Slurm prints limits: `D-HH:MM:SS`, or `HH:MM:SS` under a day.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TimeLimit::Unlimited => f.write_str("UNLIMITED"),
            TimeLimit::Minutes(total) => {
                let (days, rest) = (total / 1440, total % 1440);
                let (hours, minutes) = (rest / 60, rest % 60);
                if days > 0 {
                    write!(f, "{days}-{hours:02}:{minutes:02}:00")
                } else {
                    write!(f, "{hours:02}:{minutes:02}:00")
                }
            }
        }
    }
}

/// An amount of memory in mebibytes, Slurm's unit for `--mem`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Megabytes(pub u64);

impl Megabytes {
    /// Parses `--mem` notation: a number with an optional K, M, G or T
    /// suffix (M when none), as sbatch does.
    pub fn parse(text: &str) -> Result<Megabytes, String> {
        let text = text.trim();
        let bad = || format!("'{text}' is not a memory size: use a number with K, M, G or T");
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, suffix) = text.split_at(split);
        let number = parse_number(number).ok_or_else(bad)?;
        let megabytes = match suffix.to_ascii_uppercase().as_str() {
            "K" | "KB" => Some(number.div_ceil(1024)),
            "" | "M" | "MB" => Some(number),
            "G" | "GB" => number.checked_mul(1024),
            "T" | "TB" => number.checked_mul(1024 * 1024),
            _ => None,
        };
        megabytes.map(Megabytes).ok_or_else(bad)
    }
}

impl fmt::Display for Megabytes {
    /// Formats with the largest exact unit: `16G`, `1500M`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mb = self.0;
        if mb >= 1024 * 1024 && mb.is_multiple_of(1024 * 1024) {
            write!(f, "{}T", mb / (1024 * 1024))
        } else if mb >= 1024 && mb.is_multiple_of(1024) {
            write!(f, "{}G", mb / 1024)
        } else {
            write!(f, "{mb}M")
        }
    }
}

fn parse_number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minutes(text: &str) -> u32 {
        match TimeLimit::parse(text).unwrap() {
            TimeLimit::Minutes(m) => m,
            TimeLimit::Unlimited => panic!("{text} parsed as unlimited"),
        }
    }

    #[test]
    fn every_sbatch_time_form() {
        assert_eq!(minutes("90"), 90);
        assert_eq!(minutes("10:30"), 11, "seconds round up");
        assert_eq!(minutes("10:00"), 10);
        assert_eq!(minutes("2:00:00"), 120);
        assert_eq!(minutes("1-0"), 1440);
        assert_eq!(minutes("1-00:00:00"), 1440);
        assert_eq!(minutes("2-12"), 2 * 1440 + 720);
        assert_eq!(minutes("7-00:30"), 7 * 1440 + 30);
        assert_eq!(TimeLimit::parse("UNLIMITED"), Ok(TimeLimit::Unlimited));
        assert_eq!(TimeLimit::parse("infinite"), Ok(TimeLimit::Unlimited));
    }

    #[test]
    fn bad_times_are_errors() {
        for text in [
            "",
            "-",
            "1-",
            "a",
            "1:2:3:4",
            "1-2:3:4:5",
            "1.5",
            "-5",
            "99999999999999",
        ] {
            assert!(TimeLimit::parse(text).is_err(), "{text:?} should not parse");
        }
    }

    #[test]
    fn time_display_round_trips() {
        for text in ["1-00:00:00", "00:30:00", "7-12:05:00", "UNLIMITED"] {
            assert_eq!(TimeLimit::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn exceeds_compares_with_unlimited() {
        let day = TimeLimit::Minutes(1440);
        assert!(TimeLimit::Unlimited.exceeds(day));
        assert!(TimeLimit::Minutes(1441).exceeds(day));
        assert!(!day.exceeds(day));
        assert!(!TimeLimit::Unlimited.exceeds(TimeLimit::Unlimited));
    }

    #[test]
    fn memory_suffixes() {
        assert_eq!(Megabytes::parse("512"), Ok(Megabytes(512)));
        assert_eq!(Megabytes::parse("16G"), Ok(Megabytes(16 * 1024)));
        assert_eq!(Megabytes::parse("16g"), Ok(Megabytes(16 * 1024)));
        assert_eq!(Megabytes::parse("2T"), Ok(Megabytes(2 * 1024 * 1024)));
        assert_eq!(Megabytes::parse("1500K"), Ok(Megabytes(2)));
        assert!(Megabytes::parse("lots").is_err());
        assert!(Megabytes::parse("5X").is_err());
        assert_eq!(Megabytes(16 * 1024).to_string(), "16G");
        assert_eq!(Megabytes(1500).to_string(), "1500M");
    }
}

/// A calendar day (UTC), as days since 1970-01-01: when a rule in warn
/// mode starts to refuse (`enforcement: {warn_until: 2027-01-15}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i64);

impl Day {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Day, String> {
        let bad = || format!("'{text}' is not a date: write it as YYYY-MM-DD (2027-01-15)");
        let mut parts = text.trim().splitn(3, '-');
        let mut number = |digits: usize| -> Result<i64, String> {
            let part = parts.next().ok_or_else(bad)?;
            if part.len() != digits || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse().map_err(|_| bad())
        };
        let (year, month, day) = (number(4)?, number(2)?, number(2)?);
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return Err(bad()),
        };
        if !(1..=days_in_month).contains(&day) {
            return Err(bad());
        }
        Ok(Day(days_from_civil(year, month, day)))
    }

    /// Today, in UTC.
    pub fn today() -> Day {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Day(i64::try_from(seconds / 86_400).unwrap_or(i64::MAX))
    }

    /// The day as (year, month, day).
    pub fn civil(self) -> (i64, i64, i64) {
        // Howard Hinnant's civil_from_days.
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        (year, month, day)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// days_from_civil).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.civil();
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

#[cfg(test)]
mod day_tests {
    use super::Day;

    #[test]
    fn days_parse_print_and_order() {
        assert_eq!(Day::parse("1970-01-01"), Ok(Day(0)));
        assert_eq!(Day::parse("2000-03-01"), Ok(Day(11_017)));
        for text in ["2024-02-29", "2027-01-15", "1999-12-31", "2100-02-28"] {
            assert_eq!(Day::parse(text).map(|d| d.to_string()), Ok(text.to_owned()));
        }
        for bad in [
            "2023-02-29",
            "2027-13-01",
            "2027-1-15",
            "27-01-15",
            "2027-01-15x",
            "",
        ] {
            assert!(Day::parse(bad).is_err(), "{bad}");
        }
        assert!(Day::parse("2027-01-15").unwrap() < Day::parse("2027-01-16").unwrap());
        assert!(Day::today() > Day::parse("2020-01-01").unwrap());
    }
}
