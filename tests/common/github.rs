//! A fake GitHub releases API and asset download on 127.0.0.1, and release archives signed
//! with a test key, for the updater's tests.
#![allow(dead_code)]

use std::io::{Cursor, Read, Write};

use zipsign_api::SigningKey;

pub const TARGET: &str = "x86_64-unknown-linux-gnu";
pub const OLD_BINARY: &[u8] = b"#!/bin/sh\necho old fabula\n";
pub const NEW_BINARY: &[u8] = b"#!/bin/sh\necho new fabula 0.2.0\n";

pub fn asset_name() -> String {
    format!("fabula-0.2.0-{TARGET}.tar.gz")
}

pub fn unsigned_archive() -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mut header = tar::Header::new_gnu();
    header.set_size(NEW_BINARY.len() as u64);
    header.set_mode(0o755);
    header.set_cksum();
    tar.append_data(&mut header, "fabula", NEW_BINARY)
        .expect("tar");
    tar.into_inner().expect("tar").finish().expect("gz")
}

pub fn signed_archive(key: &SigningKey) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    zipsign_api::sign::copy_and_sign_tar(
        &mut Cursor::new(unsigned_archive()),
        &mut out,
        std::slice::from_ref(key),
        Some(asset_name().as_bytes()),
    )
    .expect("sign");
    out.into_inner()
}

pub fn release_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

/// How the fake serves the asset.
#[derive(Clone)]
pub enum AssetReply {
    Bytes(Vec<u8>),
    NotFound,
    /// Announces the full length, sends half, hangs up.
    CutOff(Vec<u8>),
}

/// A one-shot server that announces the full length, sends half the body and closes the socket
/// (tiny_http keeps connections alive, so a real hang-up needs a plain listener). Returns its URL.
pub fn hang_up_half_way(bytes: Vec<u8>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/asset", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
            bytes.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(&bytes[..bytes.len() / 2]);
        let _ = stream.shutdown(std::net::Shutdown::Both);
    });
    url
}

pub struct FakeGithub {
    pub base: String,
    pub _thread: std::thread::JoinHandle<()>,
}

pub fn fake_github(asset: AssetReply) -> FakeGithub {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind");
    let port = server.server_addr().to_ip().expect("ip").port();
    let base = format!("http://127.0.0.1:{port}");
    let asset_url = match &asset {
        AssetReply::CutOff(bytes) => hang_up_half_way(bytes.clone()),
        _ => format!("{base}/repos/o/n/releases/assets/1"),
    };
    let release = serde_json::json!({
        "tag_name": "v0.2.0",
        "name": "Fabula 0.2.0",
        "body": "Faster scrolling and a new theme.",
        "created_at": "2026-11-20T10:00:00Z",
        "published_at": "2026-11-20T10:00:00Z",
        "prerelease": false,
        "html_url": format!("{base}/o/n/releases/tag/v0.2.0"),
        "assets": [{
            "name": asset_name(),
            "url": asset_url,
            "browser_download_url": format!("{base}/o/n/releases/download/v0.2.0/{}", asset_name()),
            "content_type": "application/gzip",
            "size": 1234
        }]
    })
    .to_string();
    // A newer pre-release that only an opted-in check may offer.
    let beta = serde_json::json!({
        "tag_name": "v0.3.0-beta.1",
        "name": "Fabula 0.3.0 beta 1",
        "body": "Try the new thing.",
        "created_at": "2026-11-22T10:00:00Z",
        "prerelease": true,
        "assets": [{
            "name": format!("fabula-0.3.0-beta.1-{TARGET}.tar.gz"),
            "url": format!("{base}/repos/o/n/releases/assets/2"),
        }]
    })
    .to_string();
    let thread = std::thread::spawn(move || {
        // Bounded: a test needs at most a handful of requests.
        for _ in 0..8 {
            let Ok(Some(request)) = server.recv_timeout(std::time::Duration::from_secs(10)) else {
                return;
            };
            let path = request.url().to_owned();
            if path.starts_with("/repos/o/n/releases/latest")
                || path.starts_with("/repos/o/n/releases/tags/v0.2.0")
            {
                let header = tiny_http::Header::from_bytes("Content-Type", "application/json")
                    .expect("header");
                let _ = request
                    .respond(tiny_http::Response::from_string(release.clone()).with_header(header));
            } else if path.starts_with("/repos/o/n/releases/assets/1") {
                match &asset {
                    AssetReply::Bytes(bytes) => {
                        let _ = request.respond(tiny_http::Response::from_data(bytes.clone()));
                    }
                    AssetReply::NotFound => {
                        let body = r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}"#;
                        let _ = request
                            .respond(tiny_http::Response::from_string(body).with_status_code(404));
                    }
                    AssetReply::CutOff(_) => unreachable!("served by hang_up_half_way"),
                }
            } else if path.starts_with("/repos/o/n/releases?") {
                let header = tiny_http::Header::from_bytes("Content-Type", "application/json")
                    .expect("header");
                let list = format!("[{beta},{release}]");
                let _ = request.respond(tiny_http::Response::from_string(list).with_header(header));
            } else {
                let _ =
                    request.respond(tiny_http::Response::from_string("{}").with_status_code(404));
            }
        }
    });
    FakeGithub {
        base,
        _thread: thread,
    }
}
