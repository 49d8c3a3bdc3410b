//! Identifiers (text UUIDs, as the exchange format uses) and Unix-millisecond timestamps.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A fresh random UUID v4 in its hyphenated lowercase text form.
pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Milliseconds since the Unix epoch; a clock before 1970 counts as 0 rather than failing.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

macro_rules! text_id {
    ($name:ident, $what:literal) => {
        #[doc = concat!("Identifier of ", $what, ".")]
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub String);

        impl $name {
            pub fn new() -> Self {
                Self(new_uuid())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

text_id!(StoryId, "a story");
text_id!(EntryId, "a story entry");
text_id!(LoreId, "a lorebook entry");
text_id!(AlternativeId, "an alternative text of an entry");
