//! Timestamps as logs and HAR files write them, turned into seconds since the Unix epoch:
//! nginx's `$time_local` (`10/Oct/2000:13:55:36 -0700`), ISO 8601 / RFC 3339 (`$time_iso8601`,
//! HAR's `startedDateTime`, with or without fractions, `Z` or an offset) and `$msec`
//! (`1700000000.123`). Only these fixed shapes are read, so a small parser is all it takes.

use std::sync::OnceLock;

use regex::Regex;

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn epoch(date: (i64, i64, i64), time: (i64, i64, f64), offset_s: i64) -> Option<f64> {
    let ((y, mo, d), (h, mi, s)) = (date, time);
    let valid = (1..=12).contains(&mo)
        && (1..=31).contains(&d)
        && (0..=23).contains(&h)
        && (0..=59).contains(&mi)
        && (0.0..61.0).contains(&s);
    valid.then(|| (days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 - offset_s) as f64 + s)
}

fn month(name: &str) -> Option<i64> {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    NAMES.iter().position(|m| *m == name).map(|i| i as i64 + 1)
}

fn num(s: &str) -> Option<i64> {
    s.parse().ok()
}

/// `10/Oct/2000:13:55:36 -0700`.
pub fn time_local(s: &str) -> Option<f64> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"^(\d{1,2})/([A-Z][a-z]{2})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$",
        )
        .expect("a valid pattern")
    });
    let c = re.captures(s.trim())?;
    let sign = if &c[7] == "-" { -1 } else { 1 };
    let offset = sign * (num(&c[8])? * 3600 + num(&c[9])? * 60);
    epoch(
        (num(&c[3])?, month(&c[2])?, num(&c[1])?),
        (num(&c[4])?, num(&c[5])?, num(&c[6])? as f64),
        offset,
    )
}

/// `2000-10-10T13:55:36-07:00`, `2024-01-02T03:04:05.678Z`.
pub fn iso8601(s: &str) -> Option<f64> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2}(?:\.\d+)?)(?:(Z|z)|([+-])(\d{2}):?(\d{2}))$",
        )
        .expect("a valid pattern")
    });
    let c = re.captures(s.trim())?;
    let offset = match (c.get(8), c.get(9), c.get(10)) {
        (Some(sign), Some(h), Some(m)) => {
            let sign = if sign.as_str() == "-" { -1 } else { 1 };
            sign * (num(h.as_str())? * 3600 + num(m.as_str())? * 60)
        }
        _ => 0,
    };
    epoch(
        (num(&c[1])?, num(&c[2])?, num(&c[3])?),
        (num(&c[4])?, num(&c[5])?, c[6].parse().ok()?),
        offset,
    )
}

/// `$msec`: seconds with a fraction.
pub fn msec(s: &str) -> Option<f64> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|t| t.is_finite() && *t >= 0.0)
}

/// Any of the three shapes, for a field whose shape is not known in advance (a JSON log's
/// `time`).
pub fn any(s: &str) -> Option<f64> {
    time_local(s).or_else(|| iso8601(s)).or_else(|| msec(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_shapes_agree() {
        // 2000-10-10 20:55:36 UTC = 971211336.
        assert_eq!(
            time_local("10/Oct/2000:13:55:36 -0700"),
            Some(971_211_336.0)
        );
        assert_eq!(iso8601("2000-10-10T13:55:36-07:00"), Some(971_211_336.0));
        assert_eq!(iso8601("2000-10-10T20:55:36.250Z"), Some(971_211_336.25));
        assert_eq!(any("971211336.5"), Some(971_211_336.5));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2024, 3, 1), 19_783);
    }

    #[test]
    fn nonsense_is_none() {
        assert_eq!(time_local("10/Foo/2000:13:55:36 -0700"), None);
        assert_eq!(time_local("10/Oct/2000:25:55:36 -0700"), None);
        assert_eq!(iso8601("2000-13-10T13:55:36Z"), None);
        assert_eq!(any("-"), None);
    }
}
