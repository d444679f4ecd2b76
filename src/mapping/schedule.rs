//! Schedules of mappings read periodically (tables without change capture), as SAP Business
//! One's integration offers them: every N minutes, daily at given times, or weekly on given days.
//! Times are UTC.

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};

/// When a scheduled read of a mapping runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// At a fixed interval: `{ every = "5m" }` (units `ms`, `s`, `m`, `h`, `d`).
    Every(String),
    /// Every day at these times (UTC): `{ daily = ["07:00", "19:00"] }`.
    Daily(Vec<String>),
    /// On these days at these times (UTC):
    /// `{ weekly = { days = ["mon", "thu"], at = ["06:00"] } }`.
    Weekly(Weekly),
}

/// The days and times of a weekly schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weekly {
    /// Days: `mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun`.
    pub days: Vec<String>,
    /// Times of day, `HH:MM` (UTC).
    pub at: Vec<String>,
}

/// Parses `500ms`, `30s`, `5m`, `2h`, `1d`.
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("'{s}' has no unit; write e.g. \"30s\", \"5m\", \"2h\""))?;
    let (n, unit) = s.split_at(split);
    let n: i64 = n
        .parse()
        .map_err(|_| format!("'{s}' does not start with a whole number"))?;
    let d = match unit {
        "ms" => Duration::milliseconds(n),
        "s" => Duration::seconds(n),
        "m" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        _ => {
            return Err(format!(
                "'{s}': unknown unit '{unit}'; use ms, s, m, h or d"
            ));
        }
    };
    if d <= Duration::zero() {
        return Err(format!("'{s}' must be longer than zero"));
    }
    Ok(d)
}

fn parse_time(s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map_err(|_| format!("'{s}' is not a time of day; write HH:MM, e.g. \"07:00\""))
}

fn parse_day(s: &str) -> Result<Weekday, String> {
    Ok(match s.trim().to_ascii_lowercase().as_str() {
        "mon" => Weekday::Mon,
        "tue" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        _ => {
            return Err(format!(
                "'{s}' is not a day; use mon, tue, wed, thu, fri, sat, sun"
            ));
        }
    })
}

impl Schedule {
    /// Checks every interval, time and day; the error says which value is wrong.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Schedule::Every(s) => parse_interval(s).map(|_| ()),
            Schedule::Daily(at) => times(at).map(|_| ()),
            Schedule::Weekly(w) => {
                times(&w.at)?;
                if w.days.is_empty() {
                    return Err("weekly needs at least one day".into());
                }
                w.days.iter().try_for_each(|d| parse_day(d).map(|_| ()))
            }
        }
    }

    /// The first run strictly after `after`. For `every`, that is `after` + the interval
    /// (`after` being the last run); for the calendar forms, the next listed time.
    pub fn next_after(&self, after: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
        match self {
            Schedule::Every(s) => Ok(after + parse_interval(s)?),
            Schedule::Daily(at) => next_time(after, &times(at)?, &[]),
            Schedule::Weekly(w) => {
                let days = w
                    .days
                    .iter()
                    .map(|d| parse_day(d))
                    .collect::<Result<Vec<_>, _>>()?;
                next_time(after, &times(&w.at)?, &days)
            }
        }
    }

    /// A short description, e.g. `every 5m` or `daily at 07:00, 19:00`.
    pub fn describe(&self) -> String {
        match self {
            Schedule::Every(s) => format!("every {s}"),
            Schedule::Daily(at) => format!("daily at {} UTC", at.join(", ")),
            Schedule::Weekly(w) => {
                format!("weekly on {} at {} UTC", w.days.join(", "), w.at.join(", "))
            }
        }
    }
}

fn times(at: &[String]) -> Result<Vec<NaiveTime>, String> {
    if at.is_empty() {
        return Err("at least one time of day is needed".into());
    }
    let mut t = at
        .iter()
        .map(|s| parse_time(s))
        .collect::<Result<Vec<_>, _>>()?;
    t.sort();
    Ok(t)
}

/// The first of `times` on an allowed day (`days` empty = every day) strictly after `after`.
fn next_time(
    after: DateTime<Utc>,
    times: &[NaiveTime],
    days: &[Weekday],
) -> Result<DateTime<Utc>, String> {
    let start = after.date_naive();
    for offset in 0..=8 {
        let day = start + Duration::days(offset);
        if !days.is_empty() && !days.contains(&day.weekday()) {
            continue;
        }
        for t in times {
            let at = Utc.from_utc_datetime(&day.and_time(*t));
            if at > after {
                return Ok(at);
            }
        }
    }
    Err("the schedule never fires".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn intervals_parse_with_units() {
        assert_eq!(parse_interval("5m").unwrap(), Duration::minutes(5));
        assert_eq!(
            parse_interval("750ms").unwrap(),
            Duration::milliseconds(750)
        );
        assert!(parse_interval("5").unwrap_err().contains("no unit"));
        assert!(parse_interval("5w").unwrap_err().contains("unknown unit"));
        assert!(parse_interval("0s").is_err());
    }

    #[test]
    fn daily_and_weekly_find_the_next_time() {
        let daily = Schedule::Daily(vec!["19:00".into(), "07:00".into()]);
        assert_eq!(
            daily.next_after(at("2026-11-22T08:00:00Z")).unwrap(),
            at("2026-11-22T19:00:00Z")
        );
        assert_eq!(
            daily.next_after(at("2026-11-22T19:00:00Z")).unwrap(),
            at("2026-11-23T07:00:00Z")
        );
        // 2026-11-22 is a Sunday.
        let weekly = Schedule::Weekly(Weekly {
            days: vec!["mon".into(), "thu".into()],
            at: vec!["06:00".into()],
        });
        assert_eq!(
            weekly.next_after(at("2026-11-22T08:00:00Z")).unwrap(),
            at("2026-11-23T06:00:00Z")
        );
        assert_eq!(
            weekly.next_after(at("2026-11-23T06:00:00Z")).unwrap(),
            at("2026-11-26T06:00:00Z")
        );
        let every = Schedule::Every("5m".into());
        assert_eq!(
            every.next_after(at("2026-11-22T08:00:00Z")).unwrap(),
            at("2026-11-22T08:05:00Z")
        );
    }

    #[test]
    fn bad_values_are_named() {
        let w = Schedule::Weekly(Weekly {
            days: vec!["funday".into()],
            at: vec!["06:00".into()],
        });
        assert!(w.validate().unwrap_err().contains("funday"));
        assert!(
            Schedule::Daily(vec!["25:00".into()])
                .validate()
                .unwrap_err()
                .contains("25:00")
        );
    }

    #[test]
    fn toml_forms_parse() {
        #[derive(Deserialize)]
        struct T {
            s: Schedule,
        }
        let t: T = toml::from_str(r#"s = { every = "5m" }"#).unwrap();
        assert_eq!(t.s, Schedule::Every("5m".into()));
        let t: T = toml::from_str(r#"s = { daily = ["07:00", "19:00"] }"#).unwrap();
        assert_eq!(t.s, Schedule::Daily(vec!["07:00".into(), "19:00".into()]));
        let t: T =
            toml::from_str(r#"s = { weekly = { days = ["mon","thu"], at = ["06:00"] } }"#).unwrap();
        assert!(matches!(t.s, Schedule::Weekly(_)));
    }
}
