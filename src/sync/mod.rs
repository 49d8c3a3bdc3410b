//! LAN sync with other devices (ours or the original app): the wire messages, the server behind
//! the QR code, and the client. The only module that names tiny_http.

pub mod client;
pub mod server;
pub mod wire;

pub use client::Peer;
pub use server::{ServerEvent, ServerOptions, SyncServer};
pub use wire::Pairing;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The server could not start.
    #[error("{0}")]
    Server(String),
    /// The peer could not be reached, or sent something unreadable.
    #[error("{0}")]
    Peer(String),
    /// The peer answered with an error message of its own.
    #[error("The other device said: {0}")]
    Refused(String),
}
