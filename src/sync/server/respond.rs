//! Answers on the wire: a story streamed into a chunked reply, a message as the original spells it,\nand a refusal that leaves the rest of a request's body unread and then shuts the connection.

use crate::domain::StoryId;
use crate::jobs::{self};
use crate::storage::Store;
use crate::sync::envelope::{self};
use crate::sync::wire::SyncResponse;
use std::io::Write;
use std::net::SocketAddr;

/// The pulled story streamed from the database into a chunked reply, entry by entry: it is never
/// held whole, as a bundle or as a string.
pub(super) fn respond_story(
    request: tiny_http::Request,
    store: &Store,
    id: &StoryId,
) -> Result<(), String> {
    let head = match store.export_head(id) {
        Ok(head) => head,
        Err(e) => {
            respond(request, 200, &error(e.to_string()));
            return Err(e.to_string());
        }
    };
    let mut raw = request.into_writer();
    let status = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    let sent = store
        .stream_entries(id, |rows| {
            raw.write_all(status.as_bytes())?;
            let mut body = envelope::Chunked::new(&mut raw);
            envelope::write_story_data(head, rows, &mut body)?;
            body.finish()
        })
        .map_err(|e| e.to_string())?;
    // Headers are already out: a failure now can only close the connection.
    if let Err(e) = sent {
        log::debug!("sync: the story could not be sent: {e}");
    }
    Ok(())
}

pub(super) fn respond(request: tiny_http::Request, status: u16, body: &SyncResponse) {
    let text = serde_json::to_string(body).unwrap_or_else(|_| {
        r#"{"type":"error","message":"The reply could not be written"}"#.to_owned()
    });
    let mut response = tiny_http::Response::from_string(text).with_status_code(status);
    let mut headers = vec![(&b"Content-Type"[..], &b"application/json"[..])];
    // After a refusal the rest of the body is not worth reading: the connection ends.
    if status >= 400 {
        headers.push((&b"Connection"[..], &b"close"[..]));
    }
    for (name, value) in headers {
        if let Ok(header) = tiny_http::Header::from_bytes(name, value) {
            response.add_header(header);
        }
    }
    if let Err(e) = request.respond(response) {
        log::debug!("sync: the reply could not be sent: {e}");
    }
}

/// Bodies tiny_http may read and throw away after a refusal. Past this it must never try: it
/// allocates the whole remaining length at once, so one request declaring a petabyte would abort
/// the process (the window with it).
const DISCARD_AT_MOST: u64 = 1 << 30;

/// Answers a request whose body was not read (too large, or arriving too slowly), then ends its
/// connection. tiny_http reads the rest of a body before the connection goes on, which for a
/// trickling peer takes for ever: that happens on a thread of its own, so the request's slot is
/// free at once. A body too large even to throw away is left unread (see `DISCARD_AT_MOST`).
pub(super) fn respond_leaving_body(
    request: tiny_http::Request,
    server: SocketAddr,
    status: u16,
    body: &SyncResponse,
) {
    let text = serde_json::to_string(body).unwrap_or_default();
    let hand_back = move || {
        let peer = request.remote_addr().copied();
        let too_big = request
            .body_length()
            .is_some_and(|n| n as u64 > DISCARD_AT_MOST);
        // Upgrading sends the status line and headers and hands the connection over with the
        // body unread; the answer's own body follows by hand (tiny_http sends none then).
        let mut response = tiny_http::Response::empty(status);
        let length = text.len().to_string();
        for (name, value) in [
            (&b"Content-Type"[..], &b"application/json"[..]),
            (&b"Content-Length"[..], length.as_bytes()),
        ] {
            if let Ok(header) = tiny_http::Header::from_bytes(name, value) {
                response.add_header(header);
            }
        }
        let mut stream = request.upgrade("close", response);
        if let Err(e) = stream
            .write_all(text.as_bytes())
            .and_then(|()| stream.flush())
        {
            log::debug!("sync: a refusal could not be sent: {e}");
        }
        if let Some(peer) = peer {
            hang_up(peer, server);
        }
        if too_big {
            // Dropping the stream would have tiny_http read (and first allocate) the rest.
            std::mem::forget(stream);
        } else {
            // The socket is shut down: what is left of the body reads as ended at once.
            drop(stream);
        }
    };
    // Sending the answer can wait on a peer that does not read: not on the request's slot.
    if let Err(e) = jobs::detach("sync-refuse", hand_back) {
        log::warn!("sync: no thread to answer a refused request: {e}");
    }
}

/// Shuts down the connection between `peer` and this server once its refusal is sent: tiny_http
/// keeps a connection open after any answer unless the request itself said "close", and offers no
/// way to end one, so the socket is found among this process's descriptors by its two addresses.
/// Shutting down (not closing) leaves the descriptor to tiny_http, whose reads then end.
#[cfg(target_os = "linux")]
fn hang_up(peer: SocketAddr, server: SocketAddr) {
    use std::os::fd::BorrowedFd;
    let Ok(descriptors) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    for entry in descriptors.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: the descriptor is only asked for its addresses and, when both match, shut down;
        // one closed and reused meanwhile is whatever it is now, and is matched again by its
        // addresses before anything is done to it.
        #[allow(unsafe_code)]
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&borrowed);
        let matches = socket.peer_addr().ok().and_then(|a| a.as_socket()) == Some(peer)
            && socket
                .local_addr()
                .ok()
                .and_then(|a| a.as_socket())
                .is_some_and(|local| local.port() == server.port());
        if matches {
            let _ = socket.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// Elsewhere the connection ends when the peer closes it or its read times out.
#[cfg(not(target_os = "linux"))]
fn hang_up(_peer: SocketAddr, _server: SocketAddr) {}

pub(super) fn error(message: impl Into<String>) -> SyncResponse {
    SyncResponse::Error {
        message: message.into(),
    }
}
