//! The updater against a fake GitHub (tiny_http on 127.0.0.1): a signed release installs over a
//! copy of a binary; tampered, foreign-key, unsigned, missing and cut-off downloads are refused
//! with the old file byte for byte intact.
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use common::github::{
    AssetReply, FakeGithub, NEW_BINARY, OLD_BINARY, TARGET, asset_name, fake_github, release_key,
    signed_archive, unsigned_archive,
};
use fabula::domain::Available;
use fabula::update::{self, CheckOutcome, UpdateConfig, UpdateError};
use zipsign_api::SigningKey;

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

#[test]
fn pre_releases_are_offered_only_when_opted_in() {
    let fake = fake_github(AssetReply::NotFound);
    let installed = installed_copy();
    let mut cfg = config(&fake, &installed);
    assert_eq!(available(&cfg).version, semver::Version::new(0, 2, 0));
    cfg.allow_prerelease = true;
    let beta = available(&cfg);
    assert_eq!(
        beta.version,
        semver::Version::parse("0.3.0-beta.1").expect("semver")
    );
    assert_eq!(beta.tag, "v0.3.0-beta.1");
}

/// Makes a folder immutable (even for root) until dropped, so replacing a file in it fails.
struct Immutable(PathBuf);

impl Immutable {
    fn new(dir: &std::path::Path) -> Self {
        let status = std::process::Command::new("chattr")
            .arg("+i")
            .arg(dir)
            .status()
            .expect("chattr (e2fsprogs) must be installed: run scripts/setup.sh");
        assert!(status.success(), "chattr +i failed on {}", dir.display());
        Self(dir.to_owned())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(&self.0)
            .status();
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_swap_that_cannot_happen_leaves_the_old_binary_in_place() {
    // The target folder sits on the build's own file system (ext4 here), where chattr works.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tmp");
    let path = dir.path().join("fabula");
    std::fs::write(&path, OLD_BINARY).expect("write");
    let fake = fake_github(AssetReply::Bytes(signed_archive(&release_key())));
    let installed = Installed {
        _dir: tempfile::tempdir().expect("unused"),
        path: path.clone(),
    };
    let cfg = config(&fake, &installed);
    let found = available(&cfg);
    let result = {
        let _frozen = Immutable::new(dir.path());
        update::install(&cfg, &found, |_, _| {}, Arc::new(AtomicBool::new(false)))
    };
    assert!(result.is_err(), "the swap cannot have succeeded");
    assert_eq!(read(&path), OLD_BINARY, "the old binary is untouched");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "nothing half-written is left beside it: {leftovers:?}"
    );
}
