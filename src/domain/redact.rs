//! Takes secrets out of text that leaves the process as logs or diagnostics: API keys, bearer
//! tokens, sync tokens. Pure and conservative: it blanks values after the words that introduce a
//! secret, keys by their providers' prefixes, and long hex runs, and leaves ids and prose alone.

/// Words after which the next value is a secret (compared ignoring case).
const INTRODUCERS: &[&str] = &[
    "bearer ",
    "basic ",
    "authorization: ",
    "authorization:",
    "x-api-key: ",
    "x-api-key:",
    "x-goog-api-key: ",
    "x-goog-api-key:",
    "api-key: ",
    "api_key=",
    "apikey=",
    "key=",
    "token=",
    "\"token\":\"",
    "\"token\": \"",
    "\"apikey\":\"",
    "\"api_key\":\"",
    "token: ",
];

/// How API keys of the providers Fabula knows begin.
const KEY_PREFIXES: &[&str] = &[
    "sk-", "sk_", "AIza", "gsk_", "xai-", "nvapi-", "hf_", "pk-", "cpk_", "or-",
];

/// Shortest run after a key prefix that is taken to be a key (prefixes alone occur in prose).
const MIN_KEY_TAIL: usize = 12;
/// Hex runs this long are sync tokens or key material, never words.
const MIN_HEX_RUN: usize = 24;

const HIDDEN: &str = "[redacted]";

fn is_secret_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'+' | b'/' | b'=')
}

/// `text` with every secret it can recognise replaced by `[redacted]`.
pub fn redact(text: &str) -> String {
    let bytes = text.as_bytes();
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if let Some((start, end)) = secret_at(text, &lower, i) {
            out.push_str(&text[copied..start]);
            out.push_str(HIDDEN);
            i = end;
            copied = end;
            continue;
        }
        // Step a whole char so slicing stays on boundaries.
        i += text[i..].chars().next().map_or(1, char::len_utf8);
    }
    out.push_str(&text[copied..]);
    out
}

/// Where the secret found at `i` begins and ends (an introducer before it is kept).
fn secret_at(text: &str, lower: &str, i: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let at_word_start = i == 0 || !is_secret_char(bytes[i - 1]);
    for intro in INTRODUCERS {
        if lower[i..].starts_with(intro) {
            let value = i + intro.len();
            let end = run_end(bytes, value);
            // A value of a few characters is a word ("key=id"), not a secret.
            if end >= value + 6 {
                return Some((value, end));
            }
        }
    }
    if !at_word_start {
        return None;
    }
    for prefix in KEY_PREFIXES {
        if text[i..].starts_with(prefix) {
            let end = run_end(bytes, i);
            if end - i >= prefix.len() + MIN_KEY_TAIL {
                return Some((i, end));
            }
        }
    }
    let hex_end = i + bytes[i..]
        .iter()
        .take_while(|b| b.is_ascii_hexdigit())
        .count();
    let whole_word = hex_end == bytes.len() || !bytes[hex_end].is_ascii_alphanumeric();
    if hex_end - i >= MIN_HEX_RUN && whole_word {
        return Some((i, hex_end));
    }
    None
}

fn run_end(bytes: &[u8], from: usize) -> usize {
    from + bytes[from..]
        .iter()
        .take_while(|b| is_secret_char(**b))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_tokens_and_headers_are_hidden() {
        for (text, secret) in [
            (
                "Authorization: Bearer sk-proj-abcdef1234567890XYZ",
                "sk-proj-abcdef1234567890XYZ",
            ),
            (
                "calling with key sk-ant-api03-abcdefghijklmnop now",
                "sk-ant-api03-abcdefghijklmnop",
            ),
            (
                "x-goog-api-key: AIzaSyA1234567890abcdefghij",
                "AIzaSyA1234567890abcdefghij",
            ),
            (
                "url https://x/v1/models?key=AIzaSecret123456 failed",
                "AIzaSecret123456",
            ),
            (
                r#"{"type":"list","token":"0123456789abcdef0123456789abcdef"}"#,
                "0123456789abcdef0123456789abcdef",
            ),
            (
                "token 0123456789abcdef0123456789abcdef refused",
                "0123456789abcdef0123456789abcdef",
            ),
            (
                "x-api-key:gsk_live_1234567890abcdef",
                "gsk_live_1234567890abcdef",
            ),
        ] {
            let shown = redact(text);
            assert!(!shown.contains(secret), "{text} -> {shown}");
            assert!(shown.contains(HIDDEN), "{text} -> {shown}");
        }
    }

    #[test]
    fn ids_models_paths_and_prose_are_left_alone() {
        for text in [
            "story 2f1c9a3e-5b7d-4e8f-9a0b-1c2d3e4f5a6b opened",
            "model gpt-4o-mini-2024-07-18 on llama-3.3-70b-versatile",
            "/home/writer/.local/share/fabula/fabula.sqlite3",
            "The key= is under the mat; ask for the token, 你好 🐉",
            "task-list and sk-8 are not keys",
        ] {
            assert_eq!(redact(text), text);
        }
    }
}
