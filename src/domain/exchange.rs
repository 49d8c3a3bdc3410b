//! Stories moving in and out: the file formats a story is written as, the rule for a story that is
//! here already, and a sync peer with the stories it lists.

use serde::{Deserialize, Serialize};

use super::profile::Secret;

/// What to do when the story's id is already in the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnConflict {
    /// Refuse (the caller asks the user).
    Refuse,
    /// Import a copy with new ids and "(imported)" after its title.
    KeepBoth,
    /// Make the story the file's version, keeping the file's ids. Only what differs is written;
    /// when the file would change or remove anything the story has, the story as it was goes to
    /// the Trash first (under new ids).
    Replace,
}

/// The kinds of file a story can be written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    Avt,
    Markdown,
    Text,
}

impl FileFormat {
    pub const ALL: [FileFormat; 3] = [FileFormat::Avt, FileFormat::Markdown, FileFormat::Text];

    pub fn label(self) -> &'static str {
        match self {
            FileFormat::Avt => "Story file (.avt, opens in Aventura too)",
            FileFormat::Markdown => "Markdown (.md)",
            FileFormat::Text => "Plain text (.txt)",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Avt => "avt",
            FileFormat::Markdown => "md",
            FileFormat::Text => "txt",
        }
    }
}

/// Where a peer listens and the token it showed (typed in or read from its QR code).
#[derive(Clone, Debug, PartialEq)]
pub struct Peer {
    pub host: String,
    pub port: u16,
    /// Never shown by `Debug`, so it cannot end up in a log line.
    pub token: Secret,
}

/// Why a peer's address could not be read: a sentence for the user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PeerError(pub String);

impl Peer {
    /// Parses "HOST:PORT" (an IPv6 address in brackets).
    pub fn parse(address: &str, token: &str) -> Result<Self, PeerError> {
        let address = address.trim();
        let (host, port) = address
            .rsplit_once(':')
            .ok_or_else(|| PeerError(format!("“{address}” is not HOST:PORT.")))?;
        let port: u16 = port
            .parse()
            .map_err(|_| PeerError(format!("“{port}” is not a port number.")))?;
        if host.is_empty() {
            return Err(PeerError(format!("“{address}” has no host.")));
        }
        Ok(Self {
            host: host.trim_matches(['[', ']']).to_owned(),
            port,
            token: Secret::new(token),
        })
    }

    /// "HOST:PORT" as it is typed (brackets around an IPv6 address).
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A story a peer lists (the sync protocol's listing, as the original app sends it).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StoryListing {
    pub id: String,
    pub title: String,
    pub genre: Option<String>,
    pub updated_at: i64,
    pub entry_count: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_token_never_shows_in_debug() {
        let peer = Peer::parse("[::1]:4040", " tok-3f9a ").expect("peer");
        assert_eq!(peer.token.expose(), "tok-3f9a");
        assert_eq!(peer.address(), "[::1]:4040");
        assert!(!format!("{peer:?}").contains("3f9a"), "{peer:?}");
        assert!(Peer::parse("nohost", "t").is_err());
        assert!(Peer::parse(":80", "t").is_err());
    }
}
