//! LAN sync with other devices (ours or the original app): the wire messages, the server behind
//! the QR code, and the client. The only module that names tiny_http.

pub mod client;
pub mod envelope;
pub mod server;
pub mod wire;

pub use server::{ServerEvent, ServerOptions, SyncServer};
pub use wire::Pairing;

/// What went wrong in a sync, in the groups a user can act on: worth trying again
/// (`Unreachable`, `Unreadable`) or not (the rest).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The server could not start.
    #[error("{0}")]
    Server(String),
    /// The address typed does not name a device.
    #[error("{0}")]
    Address(String),
    /// The other device could not be reached, did not answer in time, or stopped sending.
    #[error("{0}")]
    Unreachable(String),
    /// The other device answered with something that is not a sync reply (or not the one asked for).
    #[error("{0}")]
    Unreadable(String),
    /// The peer answered with an error message of its own.
    #[error("The other device said: {0}")]
    Refused(String),
    /// The story is over what one sync message may carry; a file is the way to move it.
    #[error(
        "The story is too large to sync: its text alone is over the {limit_mib} MiB a sync message may hold. Export it as a file instead."
    )]
    TooLarge { limit_mib: u64 },
    /// Our own copy of the story could not be read from the library.
    #[error("The story could not be read: {0}")]
    Story(#[source] crate::storage::StoreError),
}

impl SyncError {
    /// Whether the same request may work a moment later (the network, not the request).
    pub fn is_retryable(&self) -> bool {
        matches!(self, SyncError::Unreachable(_) | SyncError::Unreadable(_))
    }
}

impl From<crate::domain::PeerError> for SyncError {
    fn from(e: crate::domain::PeerError) -> Self {
        SyncError::Address(e.0)
    }
}

/// The addresses this machine can be reached at, LAN ones first, loopback last.
pub fn interfaces() -> Vec<(String, std::net::IpAddr)> {
    let mut found: Vec<(String, std::net::IpAddr)> = if_addrs::get_if_addrs()
        .map(|list| list.into_iter().map(|i| (i.name.clone(), i.ip())).collect())
        .unwrap_or_default();
    // IPv4 LAN addresses are what phones and the original app type in; put them first.
    found.sort_by_key(|(_, ip)| (ip.is_loopback(), !ip.is_ipv4()));
    found.dedup_by(|a, b| a.1 == b.1);
    if found.is_empty() {
        found.push((
            "loopback".into(),
            std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        ));
    }
    found
}

/// The QR code of a pairing payload as rows of dark (true) and light modules.
pub fn qr_modules(payload: &str) -> Result<(usize, Vec<bool>), SyncError> {
    let code = qrcode::QrCode::new(payload.as_bytes())
        .map_err(|e| SyncError::Server(format!("The QR code could not be made: {e}")))?;
    let width = code.width();
    let modules = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Ok((width, modules))
}
