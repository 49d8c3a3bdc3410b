//! The updater against a fake GitHub (tiny_http on 127.0.0.1): a signed release installs over a
//! copy of a binary; tampered, foreign-key, unsigned, missing and cut-off downloads are refused
//! with the old file byte for byte intact.

use std::io::{Cursor, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use fabula::update::{self, Available, CheckOutcome, UpdateConfig, UpdateError};
use zipsign_api::SigningKey;

const TARGET: &str = "x86_64-unknown-linux-gnu";
const OLD_BINARY: &[u8] = b"#!/bin/sh\necho old fabula\n";
const NEW_BINARY: &[u8] = b"#!/bin/sh\necho new fabula 0.2.0\n";

fn asset_name() -> String {
    format!("fabula-0.2.0-{TARGET}.tar.gz")
}

fn unsigned_archive() -> Vec<u8> {
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

fn signed_archive(key: &SigningKey) -> Vec<u8> {
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

fn release_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

/// How the fake serves the asset.
#[derive(Clone)]
enum AssetReply {
    Bytes(Vec<u8>),
    NotFound,
    /// Announces the full length, sends half, hangs up.
    CutOff(Vec<u8>),
}

/// A one-shot server that announces the full length, sends half the body and closes the socket
/// (tiny_http keeps connections alive, so a real hang-up needs a plain listener). Returns its URL.
fn hang_up_half_way(bytes: Vec<u8>) -> String {
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

struct FakeGithub {
    base: String,
    _thread: std::thread::JoinHandle<()>,
}

fn fake_github(asset: AssetReply) -> FakeGithub {
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
    let thread = std::thread::spawn(move || {
        // Bounded: a test needs at most a handful of requests.
        for _ in 0..8 {
            let Ok(Some(request)) = server.recv_timeout(std::time::Duration::from_secs(10)) else {
                return;
            };
            let path = request.url().to_owned();
            if path.starts_with("/repos/o/n/releases/latest") {
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
            } else if path.starts_with("/repos/o/n/releases") {
                let header = tiny_http::Header::from_bytes("Content-Type", "application/json")
                    .expect("header");
                let list = format!("[{release}]");
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

struct Installed {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn installed_copy() -> Installed {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("fabula");
    std::fs::write(&path, OLD_BINARY).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    Installed { _dir: dir, path }
}

fn config(fake: &FakeGithub, installed: &Installed) -> UpdateConfig {
    UpdateConfig {
        repo_owner: "o".into(),
        repo_name: "n".into(),
        api_base: fake.base.clone(),
        current_version: semver::Version::new(0, 1, 0),
        target: TARGET.into(),
        allow_prerelease: false,
        keys: vec![release_key().verifying_key().to_bytes()],
        install_path: installed.path.clone(),
    }
}

fn available(cfg: &UpdateConfig) -> Available {
    match update::check(cfg).expect("check") {
        CheckOutcome::Available(a) => a,
        other => panic!("expected an update, got {other:?}"),
    }
}

fn read(path: &PathBuf) -> Vec<u8> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .expect("open")
        .read_to_end(&mut bytes)
        .expect("read");
    bytes
}

fn try_install(reply: AssetReply) -> (Result<(), UpdateError>, Installed, Vec<u64>) {
    let fake = fake_github(reply);
    let installed = installed_copy();
    let cfg = config(&fake, &installed);
    let found = available(&cfg);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen_in = seen.clone();
    let result = update::install(
        &cfg,
        &found,
        move |done, _total| seen_in.lock().expect("lock").push(done),
        Arc::new(AtomicBool::new(false)),
    );
    let progress = seen.lock().expect("lock").clone();
    (result, installed, progress)
}

#[test]
fn check_reports_the_newer_version_with_its_notes() {
    let fake = fake_github(AssetReply::NotFound);
    let installed = installed_copy();
    let cfg = config(&fake, &installed);
    let found = available(&cfg);
    assert_eq!(found.version, semver::Version::new(0, 2, 0));
    assert_eq!(found.notes, "Faster scrolling and a new theme.");
    assert_eq!(found.asset_name, asset_name());

    let fake = fake_github(AssetReply::NotFound);
    let mut current = config(&fake, &installed);
    current.current_version = semver::Version::new(0, 2, 0);
    assert_eq!(
        update::check(&current).expect("check"),
        CheckOutcome::UpToDate {
            latest: semver::Version::new(0, 2, 0)
        }
    );
}

#[test]
fn a_correctly_signed_release_is_installed_with_progress() {
    let (result, installed, progress) =
        try_install(AssetReply::Bytes(signed_archive(&release_key())));
    result.expect("install");
    assert_eq!(read(&installed.path), NEW_BINARY);
    assert!(!progress.is_empty(), "progress was reported");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&installed.path)
            .expect("meta")
            .permissions()
            .mode();
        assert_ne!(mode & 0o111, 0, "the new binary is executable");
    }
}

#[test]
fn a_tampered_archive_is_refused() {
    let mut archive = signed_archive(&release_key());
    let middle = archive.len() - 40;
    archive[middle] ^= 0x55;
    let (result, installed, _) = try_install(AssetReply::Bytes(archive));
    let err = result.expect_err("tampered archive installed");
    assert!(matches!(err, UpdateError::BadSignature(_)), "{err}");
    assert_eq!(read(&installed.path), OLD_BINARY);
}

#[test]
fn an_archive_signed_with_another_key_is_refused() {
    let other = SigningKey::from_bytes(&[9u8; 32]);
    let (result, installed, _) = try_install(AssetReply::Bytes(signed_archive(&other)));
    let err = result.expect_err("foreign key accepted");
    assert!(matches!(err, UpdateError::BadSignature(_)), "{err}");
    assert_eq!(read(&installed.path), OLD_BINARY);
}

#[test]
fn an_unsigned_archive_is_refused() {
    let (result, installed, _) = try_install(AssetReply::Bytes(unsigned_archive()));
    let err = result.expect_err("unsigned archive accepted");
    assert!(matches!(err, UpdateError::BadSignature(_)), "{err}");
    assert_eq!(read(&installed.path), OLD_BINARY);
}

#[test]
fn a_missing_download_is_refused() {
    let (result, installed, _) = try_install(AssetReply::NotFound);
    let err = result.expect_err("a 404 installed something");
    assert!(
        err.to_string().contains("assets/1"),
        "the asset download failed: {err}"
    );
    assert_eq!(read(&installed.path), OLD_BINARY);
}

#[test]
fn a_download_cut_off_half_way_is_refused() {
    let (result, installed, _) = try_install(AssetReply::CutOff(signed_archive(&release_key())));
    let err = result.expect_err("a truncated download was installed");
    eprintln!("cut-off error: {err}");
    assert!(
        !err.to_string().contains("per_page"),
        "failed on the download, not the listing: {err}"
    );
    assert_eq!(read(&installed.path), OLD_BINARY);
}

#[test]
fn cancelling_stops_the_download_and_changes_nothing() {
    let fake = fake_github(AssetReply::Bytes(signed_archive(&release_key())));
    let installed = installed_copy();
    let cfg = config(&fake, &installed);
    let found = available(&cfg);
    let result = update::install(&cfg, &found, |_, _| {}, Arc::new(AtomicBool::new(true)));
    assert!(matches!(result, Err(UpdateError::Cancelled)), "{result:?}");
    assert_eq!(read(&installed.path), OLD_BINARY);
}

#[test]
fn without_keys_nothing_is_downloaded_or_installed() {
    let fake = fake_github(AssetReply::Bytes(unsigned_archive()));
    let installed = installed_copy();
    let mut cfg = config(&fake, &installed);
    cfg.keys.clear();
    let found = Available {
        version: semver::Version::new(0, 2, 0),
        tag: "0.2.0".into(),
        notes: String::new(),
        asset_name: asset_name(),
    };
    let result = update::install(&cfg, &found, |_, _| {}, Arc::new(AtomicBool::new(false)));
    assert!(
        matches!(result, Err(UpdateError::Disabled(_))),
        "{result:?}"
    );
    assert_eq!(read(&installed.path), OLD_BINARY);
}

fn fabula_update(fake: &FakeGithub, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fabula"))
        .arg("update")
        .args(args)
        .env("FABULA_UPDATE_API", &fake.base)
        .env("FABULA_UPDATE_REPO", "o/n")
        .env(
            "FABULA_DATA_DIR",
            std::env::temp_dir().join("fabula-update-test-unused"),
        )
        .output()
        .expect("run fabula");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_check_reports_versions_and_exits_10_when_an_update_exists() {
    // The fake's release is 0.2.0 for the target of this machine.
    assert_eq!(
        update::this_target(),
        TARGET,
        "the fake serves this machine's asset"
    );
    let fake = fake_github(AssetReply::NotFound);
    let (code, out, err) = fabula_update(&fake, &["--check"]);
    assert_eq!(code, 10, "stdout: {out}\nstderr: {err}");
    assert!(
        out.contains(&format!(
            "current={} latest=0.2.0",
            env!("CARGO_PKG_VERSION")
        )),
        "{out}"
    );
    assert!(
        out.contains("Faster scrolling"),
        "release notes are shown: {out}"
    );
}

#[test]
fn cli_install_in_a_build_without_a_key_is_refused_with_the_reason() {
    let fake = fake_github(AssetReply::Bytes(signed_archive(&release_key())));
    let (code, _, err) = fabula_update(&fake, &["--yes"]);
    if option_env!("FABULA_UPDATE_PUBLIC_KEY").is_none() {
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("Updates are disabled in this build"), "{err}");
    }
}

#[test]
fn cli_check_against_an_unreachable_server_says_so() {
    let fake = FakeGithub {
        base: "http://127.0.0.1:9".into(),
        _thread: std::thread::spawn(|| {}),
    };
    let (code, _, err) = fabula_update(&fake, &["--check"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("could not be reached") || err.contains("update failed"),
        "{err}"
    );
}
