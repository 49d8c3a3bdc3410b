//! A newer release of Fabula, as the updater found it and Settings shows it.

/// A newer release that can be installed.
#[derive(Clone, Debug, PartialEq)]
pub struct Available {
    pub version: semver::Version,
    pub tag: String,
    pub notes: String,
    pub asset_name: String,
}
