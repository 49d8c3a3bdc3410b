//! The original app's LAN sync messages, exactly as it spells them: `type` tags in camelCase, the
//! fields inside actions in snake_case, story summaries in camelCase, HTTP 200 even for errors.

use crate::domain::StoryListing;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, PartialEq)]
pub struct SyncRequest {
    pub token: String,
    pub action: SyncAction,
}

/// Sync tokens never show in a log line: `Debug` leaves them out.
impl std::fmt::Debug for SyncRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncRequest")
            .field("token", &REDACTED)
            .field("action", &self.action)
            .finish()
    }
}

const REDACTED: &str = "[redacted]";

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum SyncAction {
    ListStories,
    PullStory {
        story_id: String,
    },
    /// The exchange file (compact JSON) as a string.
    PushStory {
        story_data: String,
    },
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum SyncResponse {
    StoriesList { stories: Vec<StoryListing> },
    StoryData { data: String },
    Success { message: String },
    Error { message: String },
}

/// What the QR code carries, as the original reads it.
#[derive(Serialize, Deserialize, Clone, PartialEq)]
pub struct Pairing {
    pub ip: String,
    pub port: u16,
    pub token: String,
    pub version: String,
}

impl std::fmt::Debug for Pairing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pairing")
            .field("ip", &self.ip)
            .field("port", &self.port)
            .field("token", &REDACTED)
            .field("version", &self.version)
            .finish()
    }
}

/// The messages the original uses, so its client shows what it knows.
pub const BAD_TOKEN: &str = "Invalid authentication token";

pub fn story_not_found(id: &str) -> String {
    format!("Story not found: {id}")
}
