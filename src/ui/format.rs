//! Human wording for times and sizes shown in lists.

/// The user's time zone (jiff keeps it cached and notices when it changes).
pub fn zone() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC)
}

/// The whole date and time, in the user's zone, for the hover of a relative time.
pub fn full_time(ms: i64) -> String {
    crate::domain::when::full(ms, &zone())
}

/// "today 14:32", "yesterday 09:05", "3 Nov 2026", in the user's zone.
pub fn short_time(ms: i64, now_ms: i64) -> String {
    crate::domain::when::short(ms, now_ms, &zone())
}

/// "just now", "5 min ago", "3 h ago", "2 days ago", then the day in the user's zone.
pub fn relative_time(then_ms: i64, now_ms: i64) -> String {
    let secs = (now_ms - then_ms).max(0) / 1000;
    match secs {
        0..60 => "just now".to_owned(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        86_400..604_800 => {
            let days = secs / 86_400;
            if days == 1 {
                "yesterday".to_owned()
            } else {
                format!("{days} days ago")
            }
        }
        _ => date(then_ms),
    }
}

/// The day of a Unix-ms time in the user's zone: "3 Nov 2026".
pub fn date(ms: i64) -> String {
    crate::domain::when::day(ms, &zone())
}

/// A file time as Unix milliseconds (0 for times before 1970).
pub fn unix_ms(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub fn bytes(n: u64) -> String {
    const KB: f64 = 1024.0;
    let f = n as f64;
    if f < KB {
        format!("{n} B")
    } else if f < KB * KB {
        format!("{:.1} KB", f / KB)
    } else if f < KB * KB * KB {
        format!("{:.1} MB", f / KB / KB)
    } else {
        format!("{:.2} GB", f / KB / KB / KB)
    }
}

pub use crate::domain::{count_of as count, thousands};

/// A model id as people read it: local servers often report the model's file path, of which only
/// the file name says anything.
pub fn model_label(model: &str) -> &str {
    let looks_like_path =
        model.starts_with('/') || model.contains('\\') || model.ends_with(".gguf");
    if looks_like_path {
        model.rsplit(['/', '\\']).next().unwrap_or(model)
    } else {
        model
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wording() {
        assert_eq!(relative_time(0, 30_000), "just now");
        assert_eq!(relative_time(0, 5 * 60_000), "5 min ago");
        assert_eq!(relative_time(0, 86_400_000 + 1), "yesterday");
        // Noon UTC is the same day in every zone from -11 to +11 hours.
        assert_eq!(date(43_200_000), "1 Jan 1970");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(bytes(2048), "2.0 KB");
        assert_eq!(
            model_label("/models/SmolLM2-135M.Q4_1.gguf"),
            "SmolLM2-135M.Q4_1.gguf"
        );
        assert_eq!(
            model_label("anthropic/claude-sonnet-4"),
            "anthropic/claude-sonnet-4"
        );
    }
}
