//! Token counts with OpenAI's o200k_base BPE: close enough for every provider's budget, exact for OpenAI's.
//!
//! The tables come from the 1.7 MB tiktoken vocabulary embedded here. `bpe-openai`'s own
//! `o200k_base()` embeds them prebuilt, which put 34 MB into the binary; building them takes
//! about 2 s, so storage keeps the built tables in a cache file (`set_tables_source`).

use std::io::Read;
use std::sync::{LazyLock, OnceLock};

use bpe::byte_pair_encoding::{BytePairEncoding, read_tiktoken};
use bpe_openai::Tokenizer;

/// OpenAI's o200k_base vocabulary as tiktoken publishes it (base64 token, rank per line).
const O200K_BASE_GZ: &[u8] = include_bytes!("../../assets/o200k_base.tiktoken.gz");

/// The hash factor `bpe-openai` found collision-free for this vocabulary.
const O200K_HASH_FACTOR: u64 = 17_846_336_922_010_275_747;

/// o200k_base's pre-tokenizer. The second pattern stands for tiktoken's negative look-ahead
/// `\s+(?!\S)`: it matches one character too many, which the tokenizer gives back.
const O200K_WORDS: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|\p{N}{1,3}",
    r"| ?[^\s\p{L}\p{N}]+[\r\n/]*",
    r"|\s*[\r\n]+",
    r"|\s+$",
);
const O200K_SPACES_BEFORE_WORD: &str = r"\s+\s";
const O200K_SPACES: &str = r"\s+";

/// Where the shared tables come from; see `set_tables_source`.
static TABLES_SOURCE: OnceLock<fn() -> Option<BytePairEncoding>> = OnceLock::new();

/// Lets a caller outside the pure domain supply the tables (storage keeps a cache of them on
/// disk), asked once, on the first count. Without it, or when it has none, they are built here.
/// Only the first call has effect.
pub fn set_tables_source(source: fn() -> Option<BytePairEncoding>) {
    let _ = TABLES_SOURCE.set(source);
}

static O200K_BASE: LazyLock<Option<Tokenizer>> = LazyLock::new(|| {
    let supplied = TABLES_SOURCE
        .get()
        .and_then(|source| source())
        .and_then(|bpe| o200k_base_with(bpe).ok())
        .filter(counts_reference_texts);
    let built = match supplied {
        Some(tokenizer) => Ok(tokenizer),
        None => build_o200k_base(),
    };
    match built {
        Ok(tokenizer) => Some(tokenizer),
        Err(e) => {
            log::error!(
                "The o200k_base tokenizer could not be built ({e}); token counts are estimated"
            );
            None
        }
    }
});

/// A cheap check that tables from elsewhere are o200k_base's: counts tiktoken gives.
fn counts_reference_texts(tokenizer: &Tokenizer) -> bool {
    tokenizer.bpe.num_tokens() == O200K_TOKENS
        && tokenizer.count("Hello, world!") == 4
        && tokenizer.count("Hello world") == 2
}

/// o200k_base's vocabulary size without special tokens.
const O200K_TOKENS: usize = 199_998;

/// Builds o200k_base's tables from the vocabulary: about 2 s in a release build, so callers keep
/// the result (storage caches it on disk).
pub fn build_o200k_tables() -> Result<BytePairEncoding, String> {
    let mut text = String::with_capacity(3_700_000);
    flate2::read::GzDecoder::new(O200K_BASE_GZ)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    let tokens = read_tiktoken(&text).map_err(|e| e.to_string())?;
    Ok(BytePairEncoding::from_dictionary(
        tokens,
        Some(O200K_HASH_FACTOR),
    ))
}

/// The tokenizer: the tables with o200k_base's pre-tokenizer.
fn o200k_base_with(bpe: BytePairEncoding) -> Result<Tokenizer, String> {
    Tokenizer::new_lookahead(
        bpe,
        &[
            (O200K_WORDS, false),
            (O200K_SPACES_BEFORE_WORD, true),
            (O200K_SPACES, false),
        ],
        false,
    )
    .map_err(|e| e.to_string())
}

/// Builds o200k_base from its vocabulary (see `build_o200k_tables`).
fn build_o200k_base() -> Result<Tokenizer, String> {
    o200k_base_with(build_o200k_tables()?)
}

/// Tokens in `text` as o200k_base counts them. The first call in a process builds the tables;
/// callers that must not pay that on the UI thread count on a job.
pub fn count_tokens(text: &str) -> usize {
    if text.is_empty() {
        return 0;
    }
    match O200K_BASE.as_ref() {
        Some(tokenizer) => tokenizer.count(text),
        // Unreachable with the embedded vocabulary; a budget that is roughly right beats none.
        None => text.len().div_ceil(4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_like_o200k_base() {
        // Reference counts from OpenAI's tiktoken with o200k_base.
        assert_eq!(count_tokens(""), 0);
        assert_eq!(count_tokens("Hello, world!"), 4);
        assert_eq!(count_tokens("Hello world"), 2);
    }

    #[test]
    fn counts_exactly_as_the_prebuilt_tables_do() {
        // bpe-openai's prebuilt o200k_base (only linked into tests) is checked against tiktoken.
        let prebuilt = bpe_openai::o200k_base();
        let ours = build_o200k_base().expect("tables");
        let samples = [
            "She didn't know—couldn't know—what the lighthouse keeper's 1,234 lamps meant.",
            "  leading spaces,\n\n\ttabs and trailing spaces   ",
            "ALLCAPS words, camelCase, snake_case and 3.14159 or 20261125.",
            "竜が城の上を飛んだ。彼女は剣を抜いた。",
            "Émile’s café — naïve résumé; emoji 🐉🔥 and ☕.",
            "He said: \"I'll go, you'll stay, we're done.\"\r\n/path/to/file.rs\n",
        ];
        let long = samples.concat().repeat(50);
        for text in samples.iter().copied().chain([long.as_str()]) {
            assert_eq!(ours.encode(text), prebuilt.encode(text), "{text:?}");
        }
        assert_eq!(count_tokens(samples[0]), prebuilt.count(samples[0]));
    }
}
