//! Self-update from GitHub releases: check, download with progress, verify the ed25519 signature
//! (mandatory), and swap the binary. Wraps the self_update crate (ureq backend, rustls).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use self_update::backends::github;

use crate::domain::Available;

/// The one place the release repository is named; `FABULA_UPDATE_REPO` overrides it.
pub const DEFAULT_REPO: &str = "fabula-app/fabula";
/// The GitHub API; `FABULA_UPDATE_API` overrides it (tests point it at a local fake).
pub const DEFAULT_API: &str = "https://api.github.com";
/// The public half of the release signing key, as 64 hex digits, baked in at build time by the
/// release script (`FABULA_UPDATE_PUBLIC_KEY=… cargo build --release`).
const BUILT_IN_KEY: Option<&str> = option_env!("FABULA_UPDATE_PUBLIC_KEY");

/// Everything the updater needs, gathered so tests can point it anywhere.
#[derive(Clone, Debug)]
pub struct UpdateConfig {
    pub repo_owner: String,
    pub repo_name: String,
    pub api_base: String,
    pub current_version: semver::Version,
    pub target: String,
    pub allow_prerelease: bool,
    /// ed25519 public keys; with none the updater refuses to run.
    pub keys: Vec<[u8; 32]>,
    pub install_path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("Updates are disabled in this build: {0}")]
    Disabled(String),
    #[error("The update server could not be reached (are you offline?): {0}")]
    Network(String),
    #[error("No release was found at {0}.")]
    NotFound(String),
    #[error("The update server refused for now (rate limit); try again later.")]
    RateLimited,
    #[error("The release has no download for this system ({0}).")]
    NoAsset(String),
    #[error("The download's signature is missing or wrong, so it was not installed: {0}")]
    BadSignature(String),
    #[error("The disk is full; the update was not installed.")]
    DiskFull,
    #[error("The update was cancelled; nothing was changed.")]
    Cancelled,
    #[error("The update failed: {0}")]
    Other(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum CheckOutcome {
    UpToDate { latest: semver::Version },
    Available(Available),
}

impl UpdateConfig {
    /// The configuration of this build: repository and API from the environment if set,
    /// the compiled-in key, the running executable as install path.
    pub fn for_this_build(allow_prerelease: bool) -> Result<Self, UpdateError> {
        let repo = std::env::var("FABULA_UPDATE_REPO").unwrap_or_else(|_| DEFAULT_REPO.to_owned());
        let (owner, name) = repo
            .split_once('/')
            .filter(|(o, n)| !o.is_empty() && !n.is_empty())
            .ok_or_else(|| {
                UpdateError::Other(format!(
                    "FABULA_UPDATE_REPO must be owner/name, not “{repo}”"
                ))
            })?;
        let install_path = std::env::current_exe()
            .map_err(|e| UpdateError::Other(format!("cannot find the running program: {e}")))?;
        let keys = match BUILT_IN_KEY {
            Some(hex) => vec![parse_key(hex)?],
            None => Vec::new(),
        };
        Ok(Self {
            repo_owner: owner.to_owned(),
            repo_name: name.to_owned(),
            api_base: std::env::var("FABULA_UPDATE_API").unwrap_or_else(|_| DEFAULT_API.to_owned()),
            current_version: semver::Version::parse(env!("CARGO_PKG_VERSION"))
                .map_err(|e| UpdateError::Other(e.to_string()))?,
            target: self_update::get_target().to_owned(),
            allow_prerelease,
            keys,
            install_path,
        })
    }

    /// Why updating is impossible in this build, if it is.
    pub fn disabled_reason(&self) -> Option<String> {
        self.keys.is_empty().then(|| {
            "it was built without a release signing key, and Fabula never installs an unverified download. \
             Get new versions from the project's releases page."
                .to_owned()
        })
    }

    /// `fabula-<version>-<target>.tar.gz`, the only asset name accepted for a release.
    pub fn asset_name(&self, version: &semver::Version) -> String {
        format!("fabula-{version}-{}.tar.gz", self.target)
    }

    fn builder(&self) -> github::UpdateBuilder {
        let mut b = github::Update::configure();
        b.repo_owner(&self.repo_owner)
            .repo_name(&self.repo_name)
            .api_base_url(self.api_base.trim_end_matches('/'))
            .bin_name("fabula")
            .target(&self.target)
            .current_version(self.current_version.to_string())
            .bin_install_path(&self.install_path)
            .show_download_progress(false)
            .show_output(false)
            .no_confirm(true)
            // A ceiling for a stalled connection, generous enough for a slow line.
            .timeout(std::time::Duration::from_secs(600));
        b
    }
}

/// Parses 64 hex digits into a key.
pub fn parse_key(hex: &str) -> Result<[u8; 32], UpdateError> {
    let hex = hex.trim();
    let bad = || {
        UpdateError::Disabled(format!(
            "the built-in signing key is not 64 hex digits: “{hex}”"
        ))
    };
    if hex.len() != 64 {
        return Err(bad());
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16)
            .map_err(|_| bad())?;
    }
    Ok(key)
}

fn classify(e: self_update::errors::Error) -> UpdateError {
    use self_update::errors::Error as E;
    match e {
        E::NotFound { .. } | E::NoReleaseFound { .. } => UpdateError::NotFound(e.to_string()),
        E::RateLimited { .. } => UpdateError::RateLimited,
        E::Signature(_) | E::NoSignatures(_) => UpdateError::BadSignature(e.to_string()),
        E::Transport(_) | E::HttpStatus { .. } => {
            UpdateError::Network(crate::domain::plain_error(&e.to_string()))
        }
        E::Io(io) if io.kind() == std::io::ErrorKind::StorageFull => UpdateError::DiskFull,
        other => UpdateError::Other(other.to_string()),
    }
}

fn parse_version(tag_or_version: &str) -> Option<semver::Version> {
    semver::Version::parse(tag_or_version.trim_start_matches('v')).ok()
}

/// The target triple of this build, as release asset names spell it.
pub fn this_target() -> &'static str {
    self_update::get_target()
}

/// Asks the release server whether a newer version exists. Needs no key: nothing is downloaded.
pub fn check(config: &UpdateConfig) -> Result<CheckOutcome, UpdateError> {
    let updater = config.builder().build().map_err(classify)?;
    let releases = if config.allow_prerelease {
        updater.get_newer_releases().map_err(classify)?
    } else {
        updater.get_latest_release().map_err(classify)?
    };
    let newest = releases
        .all()
        .iter()
        .filter_map(|r| parse_version(r.version()).map(|v| (v, r)))
        .filter(|(v, _)| config.allow_prerelease || v.pre.is_empty())
        .max_by(|a, b| a.0.cmp(&b.0));
    match newest {
        Some((version, release)) if version > config.current_version => {
            let asset_name = config.asset_name(&version);
            if !release.assets().iter().any(|a| a.name() == asset_name) {
                return Err(UpdateError::NoAsset(asset_name));
            }
            Ok(CheckOutcome::Available(Available {
                // Releases are tagged v<version> (README, "Releasing").
                tag: format!("v{version}"),
                notes: release.body().unwrap_or_default().to_owned(),
                asset_name,
                version,
            }))
        }
        Some((version, _)) => Ok(CheckOutcome::UpToDate { latest: version }),
        None => Ok(CheckOutcome::UpToDate {
            latest: config.current_version.clone(),
        }),
    }
}

/// Marker carried by the unwind that stops a download when the user cancels.
struct CancelUnwind;

/// Downloads `available`, verifies its signature against the configured keys, and replaces the
/// binary at `install_path` (the new file is written beside it and renamed over it). On any
/// failure, including cancel, the installed binary is left as it was.
pub fn install(
    config: &UpdateConfig,
    available: &Available,
    progress: impl Fn(u64, Option<u64>) + Send + Sync + 'static,
    cancel: Arc<AtomicBool>,
) -> Result<(), UpdateError> {
    // self_update treats an empty key list as "do not verify"; never let that happen.
    if let Some(reason) = config.disabled_reason() {
        return Err(UpdateError::Disabled(reason));
    }
    let wanted = available.asset_name.clone();
    let mut builder = config.builder();
    builder
        .verifying_keys(config.keys.clone())
        .asset_matcher(move |assets| assets.iter().find(|a| a.name() == wanted).cloned())
        .progress_callback(move |done, total| {
            // The crate offers no way to abort a download; unwinding out of its progress hook
            // does, and the unwind is caught below before it leaves this function.
            if cancel.load(Ordering::Relaxed) {
                // resume_unwind skips the panic hook: a cancel is not a crash and prints nothing.
                std::panic::resume_unwind(Box::new(CancelUnwind));
            }
            progress(done, total);
        });
    // Pinned to what the user was shown: unpinned, the crate would pick the newest entry of the
    // release list itself, which could be another version or a pre-release.
    builder.release_tag(available.tag.clone());
    let updater = builder.build().map_err(classify)?;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| updater.update()));
    match outcome {
        Ok(result) => result.map(|_| ()).map_err(classify),
        Err(payload) if payload.is::<CancelUnwind>() => Err(UpdateError::Cancelled),
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_from_hex_and_bad_ones_are_refused() {
        let hex = "00ff".repeat(16);
        let key = parse_key(&hex).expect("valid");
        assert_eq!(key[0], 0x00);
        assert_eq!(key[1], 0xff);
        assert!(parse_key("abc").is_err());
        assert!(parse_key(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn a_build_without_a_key_is_disabled_and_says_why() {
        let config = UpdateConfig {
            repo_owner: "o".into(),
            repo_name: "n".into(),
            api_base: "http://127.0.0.1:9".into(),
            current_version: semver::Version::new(0, 1, 0),
            target: "x86_64-unknown-linux-gnu".into(),
            allow_prerelease: false,
            keys: vec![],
            install_path: PathBuf::from("/nonexistent/fabula"),
        };
        assert!(config.disabled_reason().is_some());
        let available = Available {
            version: semver::Version::new(0, 2, 0),
            tag: "v0.2.0".into(),
            notes: String::new(),
            asset_name: config.asset_name(&semver::Version::new(0, 2, 0)),
        };
        let result = install(
            &config,
            &available,
            |_, _| {},
            Arc::new(AtomicBool::new(false)),
        );
        assert!(matches!(result, Err(UpdateError::Disabled(_))));
    }
}
