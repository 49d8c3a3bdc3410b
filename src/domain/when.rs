//! Times as a writer reads them, in their own time zone: "today 14:32", "yesterday 09:05",
//! "3 Nov 2026", and the whole of it for a hover. Stored times stay Unix milliseconds.

use jiff::Timestamp;
use jiff::tz::TimeZone;

fn zoned(ms: i64, tz: &TimeZone) -> Option<jiff::Zoned> {
    Timestamp::from_millisecond(ms)
        .ok()
        .map(|t| t.to_zoned(tz.clone()))
}

/// "today 14:32", "yesterday 09:05", else the day: "3 Nov 2026".
pub fn short(ms: i64, now_ms: i64, tz: &TimeZone) -> String {
    let (Some(then), Some(now)) = (zoned(ms, tz), zoned(now_ms, tz)) else {
        return String::new();
    };
    let time = then.strftime("%H:%M");
    if then.date() == now.date() {
        format!("today {time}")
    } else if now.date().yesterday().is_ok_and(|d| d == then.date()) {
        format!("yesterday {time}")
    } else {
        then.strftime("%-d %b %Y").to_string()
    }
}

/// The day alone: "3 Nov 2026".
pub fn day(ms: i64, tz: &TimeZone) -> String {
    zoned(ms, tz).map_or_else(String::new, |t| t.strftime("%-d %b %Y").to_string())
}

/// Everything, for a hover: "Tuesday 3 November 2026, 14:32 (CET)".
pub fn full(ms: i64, tz: &TimeZone) -> String {
    zoned(ms, tz).map_or_else(String::new, |t| {
        t.strftime("%A %-d %B %Y, %H:%M (%Z)").to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-03 13:32:00 UTC.
    const NOV_3: i64 = 1_793_712_720_000;
    const HOUR: i64 = 3_600_000;

    fn plus_one() -> TimeZone {
        TimeZone::fixed(jiff::tz::offset(1))
    }

    #[test]
    fn times_read_in_the_zone_given() {
        let paris = plus_one();
        assert_eq!(short(NOV_3, NOV_3 + HOUR, &paris), "today 14:32");
        assert_eq!(short(NOV_3, NOV_3 + 20 * HOUR, &paris), "yesterday 14:32");
        assert_eq!(short(NOV_3, NOV_3 + 60 * HOUR, &paris), "3 Nov 2026");
        assert_eq!(short(NOV_3, NOV_3, &TimeZone::UTC), "today 13:32");
        // 23:30 UTC is already the next day one hour east.
        let late = NOV_3 + 10 * HOUR - 2 * 60_000;
        assert_eq!(day(late, &TimeZone::UTC), "3 Nov 2026");
        assert_eq!(day(late, &paris), "4 Nov 2026");
        assert!(full(NOV_3, &paris).starts_with("Tuesday 3 November 2026, 14:32"));
        assert_eq!(
            day(i64::MAX, &paris),
            "",
            "out of range is empty, not a panic"
        );
    }
}
