//! The token counter's o200k_base tables, cached on disk: building them from the vocabulary takes
//! about 2 s, reading them back a few tens of milliseconds.
//!
//! The file is the tables as MessagePack, after a header naming this build and a hash of the rest;
//! a file from another version, cut short or changed in any way is ignored and written anew.

use std::hash::{DefaultHasher, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use bpe::byte_pair_encoding::BytePairEncoding;

use crate::domain::{build_o200k_tables, set_tables_source};

const MAGIC: &[u8] =
    concat!("fabula o200k_base tables ", env!("CARGO_PKG_VERSION"), "\n").as_bytes();

/// Makes the token counter read its tables from the cache (and fill it on a miss). Call once at
/// start-up; counting works without it, only slower to start.
pub fn use_tokenizer_cache() {
    set_tables_source(cached_tables);
}

fn cache_file() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("FABULA_CACHE_DIR") {
        return Some(PathBuf::from(dir).join("o200k_base.tables"));
    }
    directories::ProjectDirs::from("", "", "fabula")
        .map(|p| p.cache_dir().join("o200k_base.tables"))
}

fn cached_tables() -> Option<BytePairEncoding> {
    let path = cache_file();
    if let Some(tables) = path.as_deref().and_then(read_tables) {
        return Some(tables);
    }
    let built = match build_o200k_tables() {
        Ok(built) => built,
        Err(e) => {
            log::error!("o200k_base tables could not be built: {e}");
            return None;
        }
    };
    if let Some(path) = path
        && let Err(e) = write_tables(&path, &built)
    {
        log::warn!(
            "the tokenizer cache {} could not be written: {e}",
            path.display()
        );
    }
    Some(built)
}

fn checksum(bytes: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    hasher.write(bytes);
    hasher.finish()
}

/// The cached tables at `path`, if the file is whole and from this build.
pub fn read_tables(path: &Path) -> Option<BytePairEncoding> {
    let file = std::fs::read(path).ok()?;
    let rest = file.strip_prefix(MAGIC)?;
    let (sum, payload) = rest.split_first_chunk::<8>()?;
    if u64::from_le_bytes(*sum) != checksum(payload) {
        log::warn!(
            "the tokenizer cache {} is damaged; rebuilding it",
            path.display()
        );
        return None;
    }
    rmp_serde::from_slice(payload).ok()
}

/// Writes `tables` to `path` for `read_tables`, replacing the file in one step.
pub fn write_tables(path: &Path, tables: &BytePairEncoding) -> std::io::Result<()> {
    let payload = rmp_serde::to_vec(tables).map_err(std::io::Error::other)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    // Written whole under a name of this process's own, then renamed: a reader never sees half a
    // file, and two processes filling the cache at once each rename a complete one.
    let partial = path.with_extension(format!("partial-{}", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create(&partial)?;
        file.write_all(MAGIC)?;
        file.write_all(&checksum(&payload).to_le_bytes())?;
        file.write_all(&payload)?;
        std::fs::rename(&partial, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_tables() -> BytePairEncoding {
        let mut tokens: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
        tokens.extend([b"th".to_vec(), b"the".to_vec(), b"he".to_vec()]);
        BytePairEncoding::from_dictionary(tokens, None)
    }

    #[test]
    fn tables_come_back_as_written_and_damage_is_noticed() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("cache").join("o200k_base.tables");
        assert!(read_tables(&path).is_none(), "no file yet");
        let tables = small_tables();
        write_tables(&path, &tables).expect("write");
        let back = read_tables(&path).expect("read back");
        assert_eq!(back.count(b"the theme"), tables.count(b"the theme"));
        assert_eq!(back.num_tokens(), 259);

        let good = std::fs::read(&path).expect("file");
        let mut flipped = good.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        let mut other_version = good.clone();
        other_version[MAGIC.len() - 2] ^= 1;
        for (what, bytes) in [
            ("a changed byte", flipped),
            ("another version's file", other_version),
            ("a cut file", good[..good.len() / 2].to_vec()),
            ("an empty file", Vec::new()),
        ] {
            std::fs::write(&path, bytes).expect("damage");
            assert!(read_tables(&path).is_none(), "{what} was accepted");
        }
        let entries = std::fs::read_dir(path.parent().expect("dir"))
            .expect("list")
            .count();
        assert_eq!(entries, 1, "no partial files are left behind");
    }
}
