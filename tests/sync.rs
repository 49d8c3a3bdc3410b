//! LAN sync over 127.0.0.1: a client in the test speaking the original's protocol as raw HTTP
//! against our server, our client against a server in the test that answers as the original does,
//! and the bad input a peer can send.
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::TempData;
use fabula::domain::OnConflict;
use fabula::domain::{Peer, StoryId};
use fabula::formats::avt;
use fabula::jobs::NoWaker;
use fabula::sync::server::parse_request;
use fabula::sync::{ServerOptions, SyncError, SyncServer, client};
use proptest::prelude::*;
use serde_json::{Value, json};

const FIXTURE: &str = include_str!("fixtures/original-1.7.avt");
const STORY: &str = "6f1c2a9e-2b7d-4c1e-9a3f-0d5e8b7c6a41";
const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn library_with_fixture() -> TempData {
    let data = TempData::new();
    let bundle = avt::read(FIXTURE.as_bytes()).expect("fixture");
    data.open()
        .import_bundle(&bundle, OnConflict::Refuse)
        .expect("import");
    data
}

fn server(data: &TempData, tweak: impl FnOnce(&mut ServerOptions)) -> SyncServer {
    let mut options = ServerOptions::new(LOCALHOST, data.paths.database());
    options.token = Some("secret-token".into());
    tweak(&mut options);
    SyncServer::start(options, Arc::new(NoWaker)).expect("server")
}

/// One request written by hand, as the original's fetch() sends it; returns status and body.
fn raw_post(port: u16, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "POST /sync HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    read_response(&mut stream)
}

fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    (
        status,
        if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        },
    )
}

/// A chunked body as a client puts it back together.
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n").expect("chunk size line");
        let size = usize::from_str_radix(size.trim(), 16).expect("hex size");
        if size == 0 {
            return out;
        }
        out.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[test]
fn the_original_protocol_byte_for_byte() {
    let data = library_with_fixture();
    let server = server(&data, |_| {});
    let port = server.addr.port();

    let (status, body) = raw_post(
        port,
        r#"{"token":"secret-token","action":{"type":"listStories"}}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(
        json_of(&body),
        json!({"type": "storiesList", "stories": [{
            "id": STORY, "title": "The Lantern Keeper", "genre": "Mystery",
            "updatedAt": 1_738_612_000_000_i64, "entryCount": 3
        }]})
    );

    let (status, body) = raw_post(
        port,
        &format!(
            r#"{{"token":"secret-token","action":{{"type":"pullStory","story_id":"{STORY}"}}}}"#
        ),
    );
    assert_eq!(status, 200);
    let reply = json_of(&body);
    assert_eq!(reply["type"], "storyData");
    let data_text = reply["data"].as_str().expect("data is a string");
    assert!(!data_text.contains('\n'), "compact inside sync messages");
    let inner = json_of(data_text);
    assert_eq!(inner["story"]["id"], STORY);
    assert_eq!(inner["entries"].as_array().map(Vec::len), Some(3));

    for (request, message) in [
        (
            r#"{"token":"wrong","action":{"type":"listStories"}}"#.to_owned(),
            "Invalid authentication token".to_owned(),
        ),
        (
            r#"{"token":"secret-token","action":{"type":"pullStory","story_id":"nope"}}"#
                .to_owned(),
            "Story not found: nope".to_owned(),
        ),
    ] {
        let (status, body) = raw_post(port, &request);
        assert_eq!(status, 200, "errors are HTTP 200 as in the original");
        assert_eq!(json_of(&body), json!({"type": "error", "message": message}));
    }
    // Nothing about the content is said before the token is shown: garbage is a bad token.
    for garbage in [
        "this is not json",
        r#"{"action":{"type":"listStories"}}"#,
        r#"{"action":{"nonsense"#,
    ] {
        let (status, body) = raw_post(port, garbage);
        assert_eq!(status, 200);
        assert_eq!(
            json_of(&body),
            json!({"type": "error", "message": "Invalid authentication token"}),
            "{garbage}"
        );
    }
    for garbage in [
        r#"{"token":"secret-token","action":{"type":"deleteEverything"}}"#,
        r#"{"token":"secret-token"}"#,
        r#"{"token":"secret-token","action":{"type":"#,
    ] {
        let (status, body) = raw_post(port, garbage);
        assert_eq!(status, 200);
        let reply = json_of(&body);
        assert_eq!(reply["type"], "error");
        assert!(
            reply["message"]
                .as_str()
                .expect("message")
                .starts_with("Malformed request")
        );
    }
}

#[test]
fn oversized_bodies_are_refused_before_reading_and_stalled_peers_time_out() {
    let data = library_with_fixture();
    let server = server(&data, |o| {
        o.body_limit = 1024;
        o.workers = 1;
        o.io_timeout = Duration::from_secs(1);
    });
    let port = server.addr.port();

    // A Content-Length over the limit: answered at once, with no body sent at all.
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(
        stream,
        "POST /sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n"
    )
    .expect("write");
    let (status, body) = read_response(&mut stream);
    assert_eq!(status, 413);
    assert!(
        json_of(&body)["message"]
            .as_str()
            .expect("msg")
            .contains("1024-byte limit")
    );

    // A chunked body that keeps going past the limit is cut off while reading.
    let big = format!(
        r#"{{"token":"secret-token","action":{{"type":"pushStory","story_data":"{}"}}}}"#,
        "x".repeat(4000)
    );
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(
        stream,
        "POST /sync HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
        big.len()
    )
    .expect("write");
    let (status, body) = read_response(&mut stream);
    assert_eq!(status, 413, "{body}");

    // A peer that stops half way through its body pins the only worker for one timeout, no more.
    let mut stalled = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stalled,
        "POST /sync HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{{\"token\":\"secr"
    )
    .expect("write");
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    let (status, body) = raw_post(
        port,
        r#"{"token":"secret-token","action":{"type":"listStories"}}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(json_of(&body)["type"], "storiesList");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the stalled peer was let go: {:?}",
        started.elapsed()
    );
    drop(stalled);
}

#[test]
fn our_client_lists_pulls_and_pushes_without_overwriting() {
    let here = library_with_fixture();
    let server = server(&here, |_| {});
    let peer =
        Peer::parse(&format!("127.0.0.1:{}", server.addr.port()), "secret-token").expect("peer");

    let listed = client::list(&peer).expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].title, "The Lantern Keeper");

    let pulled = client::pull(&peer, STORY, 0).expect("pull");
    let stored = here
        .open()
        .export_bundle(&StoryId::from(STORY))
        .expect("stored");
    assert_eq!(pulled.story, stored.story);
    assert_eq!(pulled.entries, stored.entries);
    assert_eq!(pulled.lore, stored.lore);
    for section in &stored.sections {
        assert!(pulled.sections.contains(section), "{} lost", section.0);
    }

    // The other device changed the story and pushes it back: the old copy goes to the Trash.
    let mut changed = pulled.clone();
    changed.story.title = "The Lantern Keeper, revised".into();
    changed.entries[0].content = "Revised opening.".into();
    let there = TempData::new();
    let mut there_store = there.open();
    there_store
        .import_bundle(&changed, OnConflict::Refuse)
        .expect("changed on the other device");
    let message = client::push(&peer, &there_store, &StoryId::from(STORY)).expect("push");
    assert!(
        message.contains("previous copy is in the Trash"),
        "{message}"
    );
    let store = here.open();
    assert_eq!(
        store
            .story_summary(&StoryId::from(STORY))
            .expect("story")
            .story
            .title,
        "The Lantern Keeper, revised"
    );
    assert_eq!(store.trashed_stories().expect("trash").len(), 1);

    let wrong = Peer {
        token: fabula::domain::Secret::new("nope"),
        ..peer.clone()
    };
    match client::list(&wrong) {
        Err(e @ SyncError::Refused(_)) => {
            assert!(
                !e.is_retryable(),
                "a refusal is not worth repeating as it is"
            );
            assert!(matches!(&e, SyncError::Refused(m) if m == "Invalid authentication token"));
        }
        other => panic!("{other:?}"),
    }
    drop(server);
    let gone = client::list(&peer);
    assert!(matches!(gone, Err(SyncError::Unreachable(_))), "{gone:?}");
    assert!(gone.is_err_and(|e| e.is_retryable()));
}

/// A server that answers as the original app does, from canned JSON.
fn original_app(
    reply: impl Fn(&Value) -> (u16, String) + Send + Sync + 'static,
) -> (u16, Arc<tiny_http::Server>) {
    let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind"));
    let port = server.server_addr().to_ip().expect("ip").port();
    let srv = server.clone();
    std::thread::spawn(move || {
        for mut request in srv.incoming_requests() {
            let mut body = String::new();
            let _ = request.as_reader().read_to_string(&mut body);
            let (status, text) = reply(&serde_json::from_str(&body).unwrap_or(Value::Null));
            let _ =
                request.respond(tiny_http::Response::from_string(text).with_status_code(status));
        }
    });
    (port, server)
}

#[test]
fn our_client_reads_what_the_original_sends() {
    let (port, _server) = original_app(|request| {
        if request["token"] != "paired" {
            return (
                200,
                r#"{"type":"error","message":"Invalid authentication token"}"#.into(),
            );
        }
        match request["action"]["type"].as_str() {
            Some("listStories") => (
                200,
                format!(r#"{{"type":"storiesList","stories":[{{"id":"{STORY}","title":"The Lantern Keeper","genre":null,"updatedAt":1738612000000,"entryCount":3}}]}}"#),
            ),
            Some("pullStory") => (
                200,
                json!({"type": "storyData", "data": serde_json::to_string(&serde_json::from_str::<Value>(FIXTURE).expect("fixture")).expect("compact")}).to_string(),
            ),
            Some("pushStory") => (200, r#"{"type":"success","message":"Story imported successfully"}"#.into()),
            _ => (200, r#"{"type":"error","message":"Unknown action"}"#.into()),
        }
    });
    let peer = Peer::parse(&format!("127.0.0.1:{port}"), "paired").expect("peer");
    let listed = client::list(&peer).expect("list");
    assert_eq!(listed[0].genre, None);
    assert_eq!(listed[0].entry_count, 3);
    let pulled = client::pull(&peer, STORY, 0).expect("pull");
    assert_eq!(pulled.entries.len(), 3);
    assert_eq!(pulled.story.protagonist.as_deref(), Some("Wren"));

    // Pulled stories go through the import conflict rule: never matched by title, never overwritten.
    let data = TempData::new();
    let mut store = data.open();
    store
        .import_bundle(&pulled, OnConflict::Refuse)
        .expect("first pull");
    // A push is sent as it is read from the database (a chunked body), which the original reads.
    assert_eq!(
        client::push(&peer, &store, &StoryId::from(STORY)).expect("push"),
        "Story imported successfully"
    );
    assert!(store.import_bundle(&pulled, OnConflict::Refuse).is_err());

    let wrong = Peer {
        token: fabula::domain::Secret::new("old"),
        ..peer
    };
    assert!(
        matches!(client::list(&wrong), Err(SyncError::Refused(m)) if m == "Invalid authentication token")
    );
}

#[test]
fn pull_replies_are_read_in_any_key_order_with_javascript_escapes() {
    // JSON.stringify may put `data` first and write non-ASCII as \u escapes, pairs included.
    let story: Value = serde_json::from_str(FIXTURE).expect("fixture");
    let mut compact = serde_json::to_string(&story).expect("compact");
    compact = compact.replacen("The Lantern Keeper", "The Lantern Keeper 🐉 café", 1);
    let ascii_escaped: String = serde_json::to_string(&compact)
        .expect("string")
        .chars()
        .flat_map(|c| {
            if c.is_ascii() {
                vec![c.to_string()]
            } else {
                let mut units = [0u16; 2];
                c.encode_utf16(&mut units)
                    .iter()
                    .map(|u| format!("\\u{u:04x}"))
                    .collect()
            }
        })
        .collect();
    let body = format!(r#"{{"data":{ascii_escaped},"type":"storyData"}}"#);
    let (port, _server) = original_app(move |_| (200, body.clone()));
    let peer = Peer::parse(&format!("127.0.0.1:{port}"), "t").expect("peer");
    let pulled = client::pull(&peer, STORY, 0).expect("pull");
    assert_eq!(pulled.story.title, "The Lantern Keeper 🐉 café");
    assert_eq!(pulled.entries.len(), 3);

    let refused = |reply: &'static str| {
        let (port, _server) = original_app(move |_| (200, reply.into()));
        let peer = Peer::parse(&format!("127.0.0.1:{port}"), "t").expect("peer");
        client::pull(&peer, STORY, 0).expect_err(reply).to_string()
    };
    assert!(
        refused(r#"{"type":"error","message":"Story not found: x"}"#)
            .contains("Story not found: x")
    );
    let cut = refused(r#"{"type":"storyData","data":"{\"version\":"#);
    assert!(cut.contains("stopped sending"), "{cut}");
    assert!(refused(r#"{"type":"storyData","data":"[1,2]"}"#).contains("not a story file"));
    assert!(refused(r#"{"type":"success","message":"?"}"#).contains("does not fit"));
    assert!(refused("<html>").contains("could not read"));
}

#[test]
fn a_peer_sending_garbage_is_an_error_not_a_crash() {
    let (port, _server) = original_app(|_| (200, "<html>captive portal</html>".into()));
    let peer = Peer::parse(&format!("127.0.0.1:{port}"), "t").expect("peer");
    let err = client::list(&peer).expect_err("garbage");
    assert!(err.to_string().contains("could not read"), "{err}");
    assert!(matches!(err, SyncError::Unreadable(_)), "{err:?}");
    let (port, _server) = original_app(|_| (500, "oops".into()));
    let peer = Peer::parse(&format!("127.0.0.1:{port}"), "t").expect("peer");
    assert!(
        client::list(&peer)
            .expect_err("500")
            .to_string()
            .contains("answered 500")
    );
    assert!(Peer::parse("no-port", "t").is_err());
    assert!(Peer::parse("host:99999", "t").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn the_request_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = parse_request(&bytes[..], 512, "secret-token");
    }

    #[test]
    fn requests_round_trip(token in "[a-z0-9]{0,40}", id in "[a-z0-9-]{0,40}") {
        let text = json!({"token": token, "action": {"type": "pullStory", "story_id": id}}).to_string();
        let parsed = parse_request(text.as_bytes(), 1 << 20, &token).expect("valid");
        prop_assert_eq!(parsed.token, token);
    }
}

#[test]
fn a_push_is_read_whatever_the_key_order_and_escapes() {
    let data = TempData::new();
    drop(data.open());
    let server = server(&data, |_| {});
    let mut story: Value = serde_json::from_str(FIXTURE).expect("fixture");
    story["entries"][0]["content"] = "Quotes \"here\", a tab\t, é, 🐉 and a \\ backslash.".into();
    // The story string escaped the way JavaScript's JSON.stringify writes it, with \u escapes too.
    let inner = serde_json::to_string(&story).expect("compact");
    let escaped = serde_json::to_string(&inner)
        .expect("string")
        .replace('🐉', "\\ud83d\\udc09")
        .replace('é', "\\u00e9");
    let body = format!(
        r#"{{ "action" : {{ "story_data" : {escaped}, "note": [1, {{"a": "}}"}}], "type":"pushStory" }}, "extra": -1.5e3, "token" : "secret-token" }}"#
    );
    let (status, reply) = raw_post(server.addr.port(), &body);
    assert_eq!(status, 200);
    assert_eq!(json_of(&reply)["type"], "success", "{reply}");
    let store = data.open();
    let rows = store.entry_rows(&StoryId::from(STORY)).expect("rows");
    assert_eq!(
        store.entry(&rows[0].id).expect("entry").content,
        "Quotes \"here\", a tab\t, é, 🐉 and a \\ backslash."
    );

    // A broken story inside a well-formed message is an error reply, and the server goes on.
    let (_, reply) = raw_post(
        server.addr.port(),
        r#"{"token":"secret-token","action":{"type":"pushStory","story_data":"{\"version\":\"1.0\"}"}}"#,
    );
    assert!(
        json_of(&reply)["message"]
            .as_str()
            .expect("msg")
            .starts_with("The story could not be read")
    );
    let (_, reply) = raw_post(
        server.addr.port(),
        r#"{"token":"secret-token","action":{"type":"listStories"}}"#,
    );
    assert_eq!(json_of(&reply)["type"], "storiesList");
}

#[test]
fn tricklers_do_not_hold_up_a_real_request() {
    let data = library_with_fixture();
    let server = server(&data, |o| o.workers = 2);
    let port = server.addr.port();
    // 32 peers send a header and then a byte a second, as a slow-loris client does.
    let tricklers: Vec<TcpStream> = (0..32)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            write!(
                s,
                "POST /sync HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{{"
            )
            .expect("write");
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let (status, body) = raw_post(
        port,
        r#"{"token":"secret-token","action":{"type":"listStories"}}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(json_of(&body)["type"], "storiesList");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered while 32 peers trickle: {:?}",
        started.elapsed()
    );
    drop(tricklers);
}

/// The status line of a reply, read without waiting for the connection to end.
fn status_line(stream: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => line.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&line).trim().to_owned()
}

#[test]
fn a_413_is_answered_before_any_of_the_body_is_read() {
    let data = library_with_fixture();
    let server = server(&data, |o| o.body_limit = 1024);
    let mut stream = TcpStream::connect(("127.0.0.1", server.addr.port())).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(
        stream,
        "POST /sync HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n"
    )
    .expect("write");
    assert_eq!(status_line(&mut stream), "HTTP/1.1 413 Payload Too Large");
    // And the connection ends: the rest of the body is never waited for.
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    let ended = stream.read_to_end(&mut rest);
    assert!(ended.is_ok(), "the connection stayed open: {ended:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn a_body_declared_larger_than_memory_is_refused_without_taking_the_process_down() {
    let data = library_with_fixture();
    let server = server(&data, |_| {});
    let port = server.addr.port();
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    // tiny_http would allocate the whole declared length to throw the body away: an abort.
    write!(
        s,
        "POST /sync HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999\r\n\r\n"
    )
    .expect("write");
    assert_eq!(status_line(&mut s), "HTTP/1.1 413 Payload Too Large");
    let (status, body) = raw_post(
        port,
        r#"{"token":"secret-token","action":{"type":"listStories"}}"#,
    );
    assert_eq!(status, 200, "{body}");
}

#[test]
fn refused_tricklers_hold_no_request_slot() {
    let data = library_with_fixture();
    let server = server(&data, |_| {});
    let port = server.addr.port();
    // More tricklers than requests are answered at once; each is refused after the grace and
    // tiny_http then reads the rest of its body, at a byte a second, on a thread of its own.
    let tricklers: Vec<TcpStream> = (0..80)
        .map(|_| {
            // One at a time, so tiny_http gives each connection a thread of its own.
            std::thread::sleep(Duration::from_millis(20));
            let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            write!(
                s,
                "POST /sync HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{{"
            )
            .expect("write");
            s
        })
        .collect();
    let writers: Vec<TcpStream> = tricklers
        .iter()
        .map(|s| s.try_clone().expect("clone"))
        .collect();
    let trickle = std::thread::spawn(move || {
        let mut writers = writers;
        for _ in 0..12 {
            for w in &mut writers {
                let _ = w.write_all(b" ");
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    std::thread::sleep(Duration::from_secs(9));
    let (status, body) = raw_post(
        port,
        r#"{"token":"secret-token","action":{"type":"listStories"}}"#,
    );
    assert_eq!(status, 200, "not told the server is busy: {body}");
    trickle.join().expect("trickle");
    drop(tricklers);
}

/// The fixture story with `entries` entries (ids `{prefix}-{i}`) as compact JSON, in the order
/// the apps write it, story before entries (serde_json's map would sort the keys), so a reader
/// stores entries while the rest is still arriving.
fn grown_story(entries: usize, prefix: &str) -> String {
    let mut story: Value = serde_json::from_str(FIXTURE).expect("fixture");
    let template = story["entries"][0].clone();
    story["entries"] = (0..entries)
        .map(|i| {
            let mut e = template.clone();
            e["id"] = format!("{prefix}-{i}").into();
            e["position"] = i.into();
            e["parentId"] = Value::Null;
            e
        })
        .collect::<Vec<_>>()
        .into();
    let object = story.as_object().expect("object");
    let mut text = format!(
        r#"{{"version":{},"exportedAt":{},"story":{},"entries":{}"#,
        object["version"], object["exportedAt"], object["story"], object["entries"]
    );
    for (key, value) in object {
        if !["version", "exportedAt", "story", "entries"].contains(&key.as_str()) {
            text.push_str(&format!(",{}:{value}", Value::from(key.as_str())));
        }
    }
    text.push('}');
    text
}

#[test]
fn a_push_cut_half_way_is_stored_as_it_arrives_and_rolled_back_whole() {
    let data = library_with_fixture();
    let server = server(&data, |_| {});
    let before = data
        .open()
        .export_bundle(&StoryId::from(STORY))
        .expect("before");
    // The same story, grown to 2,000 entries, cut off inside its entries: the first batches are
    // already stored (and the copy here already moved to the Trash) when the cut is met.
    let inner = grown_story(2_000, "grown");
    let cut = &inner[..inner.len() * 2 / 3];
    let body = format!(
        r#"{{"token":"secret-token","action":{{"type":"pushStory","story_data":{}}}}}"#,
        serde_json::to_string(cut).expect("string")
    );
    let (status, reply) = raw_post(server.addr.port(), &body);
    assert_eq!(status, 200);
    let message = json_of(&reply)["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.starts_with("The story could not be read"),
        "{reply}"
    );
    let store = data.open();
    let after = store.export_bundle(&StoryId::from(STORY)).expect("after");
    assert_eq!(after.entries, before.entries, "the story here is as it was");
    assert!(store.trashed_stories().expect("trash").is_empty());

    // The whole of it lands, the old copy in the Trash.
    let body = format!(
        r#"{{"token":"secret-token","action":{{"type":"pushStory","story_data":{}}}}}"#,
        serde_json::to_string(&inner).expect("string")
    );
    let (_, reply) = raw_post(server.addr.port(), &body);
    assert_eq!(json_of(&reply)["type"], "success", "{reply}");
    let store = data.open();
    assert_eq!(
        store.entry_rows(&StoryId::from(STORY)).expect("rows").len(),
        2_000
    );
    assert_eq!(store.trashed_stories().expect("trash").len(), 1);
}

#[test]
fn a_slow_push_never_holds_the_library_s_write_lock_while_it_arrives() {
    let data = library_with_fixture();
    let server = server(&data, |_| {});
    // Large enough that much of it has been read (and, unspooled, stored) before the pause.
    let inner = grown_story(3_000, "slow");
    let body = format!(
        r#"{{"token":"secret-token","action":{{"type":"pushStory","story_data":{}}}}}"#,
        serde_json::to_string(&inner).expect("string")
    );
    let mut stream = TcpStream::connect(("127.0.0.1", server.addr.port())).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "POST /sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .expect("headers");
    // The story is well on its way (past its `story` object) when the peer pauses.
    let half = body.len() * 3 / 4;
    stream
        .write_all(&body.as_bytes()[..half])
        .expect("first part");
    std::thread::sleep(Duration::from_millis(800));
    // The window saves what you type meanwhile, without waiting on the peer.
    let store = data.open();
    store
        .set_busy_timeout(Duration::from_millis(300))
        .expect("busy timeout");
    let started = Instant::now();
    store
        .create_story(&fabula::domain::NewStory {
            title: "Typed while a push arrives".into(),
            ..Default::default()
        })
        .expect("a write while the push is on its way");
    assert!(started.elapsed() < Duration::from_millis(300));
    drop(store);
    stream
        .write_all(&body.as_bytes()[half..])
        .expect("the rest");
    let (status, reply) = read_response(&mut stream);
    assert_eq!(status, 200);
    assert_eq!(json_of(&reply)["type"], "success", "{reply}");
    // No spooled copy is left beside the database.
    let leftovers: Vec<_> = std::fs::read_dir(&data.paths.dir)
        .expect("data folder")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".incoming-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn no_debug_output_shows_a_sync_token() {
    let token = "tok-0123456789abcdef";
    let pairing = fabula::sync::Pairing {
        ip: "192.168.1.20".into(),
        port: 4040,
        token: token.into(),
        version: "1".into(),
    };
    let request = fabula::sync::wire::SyncRequest {
        token: token.into(),
        action: fabula::sync::wire::SyncAction::ListStories,
    };
    let mut options = ServerOptions::new(
        std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        "/tmp/x.sqlite3".into(),
    );
    options.token = Some(token.into());
    let peer = Peer::parse("192.168.1.20:4040", token).expect("peer");
    for shown in [
        format!("{pairing:?}"),
        format!("{request:?}"),
        format!("{options:?}"),
        format!("{peer:?}"),
    ] {
        assert!(!shown.contains(token), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
    }
    // The wire still carries it as the original expects.
    assert!(
        serde_json::to_string(&pairing)
            .expect("json")
            .contains(token)
    );
}

/// Between two Fabula devices a narration's alternatives, the story's draft and its world travel
/// too, both ways.
#[test]
fn alternatives_and_drafts_travel_with_a_push_and_a_pull() {
    let there = TempData::new();
    let story = there.add_story("Two tellings");
    let narration = {
        let mut store = there.open();
        store
            .append_entry(&story, fabula::domain::EntryKind::UserAction, "I knock.")
            .expect("action");
        let narration = store
            .append_entry(
                &story,
                fabula::domain::EntryKind::Narration,
                "Nobody answers.",
            )
            .expect("narration")
            .id;
        store
            .add_alternative(&narration, "A voice answers.", "", false)
            .expect("alternative");
        store
            .save_draft(&fabula::domain::Draft {
                story_id: story.clone(),
                target: None,
                content: "The door opens a crack and".into(),
                reasoning: String::new(),
                state: fabula::domain::DraftState::Failed,
                error: Some("The connection dropped.".into()),
                model: None,
                started_at: 1_700_000_000_000,
                updated_at: 1_700_000_002_000,
            })
            .expect("draft");
        store
            .save_world_row(
                &story,
                &fabula::domain::WorldRow::Character(Box::new(fabula::domain::Character {
                    id: "c-door".into(),
                    name: "The Doorkeeper".into(),
                    traits: vec!["patient".into()],
                    ..Default::default()
                })),
            )
            .expect("character");
        narration
    };
    let here = TempData::new();
    drop(here.open());
    let server = server(&here, |_| {});
    let peer =
        Peer::parse(&format!("127.0.0.1:{}", server.addr.port()), "secret-token").expect("peer");
    client::push(&peer, &there.open(), &story).expect("push");
    let entry = here.open().entry(&narration).expect("pushed");
    assert_eq!(entry.content, "A voice answers.");
    let pos = entry.alternative.expect("the alternatives came along");
    assert_eq!((pos.index, pos.count), (2, 2));
    let draft = here
        .open()
        .draft(&story)
        .expect("draft")
        .expect("the draft came along");
    assert_eq!(draft.content, "The door opens a crack and");
    assert_eq!(
        (draft.state, draft.target),
        (fabula::domain::DraftState::Failed, None)
    );
    let world = here.open().world(&story).expect("world");
    assert_eq!(
        world.characters[0].name, "The Doorkeeper",
        "the world came along"
    );
    assert_eq!(world.characters[0].traits, ["patient"]);

    // And back again by a pull into a third library.
    let third = TempData::new();
    let mut third_store = third.open();
    client::pull_into(&peer, story.as_str(), 0, &mut |s| {
        fabula::transfer::import_avt(&mut third_store, s, OnConflict::Refuse)
    })
    .expect("pull")
    .expect("stored");
    let pos = third_store
        .entry(&narration)
        .expect("pulled")
        .alternative
        .expect("alternatives");
    assert_eq!((pos.index, pos.count), (2, 2));
    let draft = third_store
        .draft(&story)
        .expect("draft")
        .expect("and the draft");
    assert_eq!(draft.error.as_deref(), Some("The connection dropped."));
}

#[test]
fn a_story_with_branches_goes_both_ways_with_its_tree() {
    use fabula::domain::EntryKind;
    let here = library_with_fixture();
    let story = StoryId::from(STORY);
    let fork = {
        let store = here.open();
        let first = store.entry_rows(&story).expect("rows")[0].id.clone();
        let branch = store
            .create_branch(&story, &first, "The dark lamp")
            .expect("branch");
        store
            .append_entry(&story, EntryKind::Narration, "Wren lets the lamp go dark.")
            .expect("entry");
        branch
    };
    let server = server(&here, |_| {});
    let peer =
        Peer::parse(&format!("127.0.0.1:{}", server.addr.port()), "secret-token").expect("peer");
    let pulled = client::pull(&peer, STORY, 0).expect("pull");
    let there = TempData::new();
    let mut there_store = there.open();
    there_store
        .import_bundle(&pulled, OnConflict::Refuse)
        .expect("stored on the other device");
    let branches = there_store.branches(&story).expect("branches");
    assert_eq!(branches.len(), 1);
    assert_eq!(
        (branches[0].id.as_str(), branches[0].name.as_str()),
        (fork.id.as_str(), "The dark lamp")
    );
    assert_eq!(
        there_store
            .current_branch(&story)
            .expect("current")
            .as_deref(),
        Some(fork.id.as_str())
    );
    let shown: Vec<String> = there_store
        .entry_rows(&story)
        .expect("rows")
        .iter()
        .map(|r| there_store.entry(&r.id).expect("entry").content)
        .collect();
    assert_eq!(
        shown.len(),
        2,
        "the shared entry and the branch's own: {shown:?}"
    );
    assert_eq!(shown[1], "Wren lets the lamp go dark.");

    // The other device writes on the main line and pushes: both lines arrive here.
    there_store.switch_branch(&story, None).expect("main");
    there_store
        .append_entry(
            &story,
            EntryKind::Narration,
            "On the main line the lamp burns on.",
        )
        .expect("entry");
    client::push(&peer, &there_store, &story).expect("push");
    let store = here.open();
    assert_eq!(store.branches(&story).expect("branches").len(), 1);
    assert_eq!(
        store.current_branch(&story).expect("current"),
        None,
        "as the pusher had it"
    );
    let main: Vec<String> = store
        .entry_rows(&story)
        .expect("rows")
        .iter()
        .map(|r| store.entry(&r.id).expect("entry").content)
        .collect();
    assert_eq!(
        main.last().map(String::as_str),
        Some("On the main line the lamp burns on.")
    );
    assert!(
        !main.iter().any(|t| t.contains("go dark")),
        "the branch's entry is not on main"
    );
}
