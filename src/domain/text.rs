//! Text measures shared by storage and UI: word counts and one-line previews.

/// Words as a writer counts them: runs of non-whitespace. CJK text without spaces counts
/// each ideograph as a word, which is how CJK word processors report length.
pub fn count_words(text: &str) -> u64 {
    // Stored stories are counted whole (a pushed 100 MB story, every entry): ASCII text, which most
    // is, a block at a time in a form the compiler vectorizes (15 ms per 100 MB, not 150); other
    // text byte by byte, decoding only non-ASCII chars.
    if text.is_ascii() {
        return count_ascii_words(text.as_bytes());
    }
    let bytes = text.as_bytes();
    let mut words = 0u64;
    let mut in_word = false;
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        if b.is_ascii() {
            // The ASCII characters `char::is_whitespace` accepts.
            let space = matches!(b, b' ' | b'\t'..=b'\r');
            words += u64::from(!space && !in_word);
            in_word = !space;
            at += 1;
            continue;
        }
        let Some(c) = text.get(at..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        if is_cjk(c) {
            words += 1;
            in_word = false;
        } else if c.is_whitespace() {
            in_word = false;
        } else if !in_word {
            words += 1;
            in_word = true;
        }
        at += c.len_utf8();
    }
    words
}

/// Words in ASCII text: word starts are non-space bytes after a space (or at the start).
fn count_ascii_words(bytes: &[u8]) -> u64 {
    // The ASCII characters `char::is_whitespace` accepts: space and \t \n \x0b \x0c \r.
    let space = |b: u8| (b == b' ') | (b.wrapping_sub(b'\t') < 5);
    let mut words = u64::from(bytes.first().is_some_and(|&b| !space(b)));
    let Some(before) = bytes.len().checked_sub(1) else {
        return words;
    };
    // At most 255 pairs per block, so the block's count fits the u8 the vector lanes add in.
    for (left, right) in bytes[..before].chunks(255).zip(bytes[1..].chunks(255)) {
        let starts = left
            .iter()
            .zip(right)
            .fold(0u8, |n, (&a, &b)| n + u8::from(space(a) & !space(b)));
        words += u64::from(starts);
    }
    words
}

/// Scripts written without spaces between words (kana, CJK ideographs, Hangul).
pub(super) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
}

/// An error as a library words it, made fit for a sentence: no type names ("TransportError: "),
/// no "io: " layer and no "(os error 111)"; what is left starts in lower case.
pub fn plain_error(text: &str) -> String {
    let mut rest = text.trim();
    loop {
        let before = rest;
        for prefix in [
            "TransportError:",
            "Transport error:",
            "io:",
            "Io:",
            "error:",
        ] {
            if let Some(r) = rest.strip_prefix(prefix) {
                rest = r.trim_start();
            }
        }
        if rest == before {
            break;
        }
    }
    let mut out = rest.to_owned();
    while let Some(start) = out.find(" (os error ") {
        match out[start..].find(')') {
            Some(end) => out.replace_range(start..start + end + 1, ""),
            None => break,
        }
    }
    let mut chars = out.chars();
    match chars.next() {
        Some(first) if chars.clone().next().is_some_and(char::is_lowercase) => {
            first.to_lowercase().chain(chars).collect()
        }
        _ => out,
    }
}

/// 12345 → "12,345".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

/// What goes between a narration cut off at the length limit and the text that continues it: a
/// space when both sides meet at a word (a limit falls between tokens, which mostly begin words),
/// nothing when either side already has the break or the continuation opens with punctuation.
pub fn joint(cut: &str, continuation: &str) -> &'static str {
    match (cut.chars().last(), continuation.chars().next()) {
        (None, _) | (_, None) => "",
        (Some(end), Some(start))
            if end.is_whitespace()
                || start.is_whitespace()
                || matches!(
                    start,
                    ',' | '.' | ';' | ':' | '!' | '?' | ')' | '”' | '’' | '…' | '-' | '—'
                ) =>
        {
            ""
        }
        _ => " ",
    }
}

/// "1 entry", "12,345 entries": a count with the word in its number.
pub fn count_of(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// The first line of `text`, cut to at most `max_chars` characters with an ellipsis.
pub fn preview(text: &str, max_chars: usize) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.chars().count() <= max_chars {
        return line.to_owned();
    }
    let mut cut: String = line.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `text` ending in a full stop (or the punctuation it already has), so another sentence can follow.
pub fn end_sentence(text: &str) -> String {
    let t = text.trim_end();
    if t.ends_with(['.', '!', '?', '…', '"', '”']) {
        t.to_owned()
    } else {
        format!("{t}.")
    }
}

/// A file name from a title: letters, digits, spaces, dashes and underscores kept, the rest dropped.
pub fn file_stem(title: &str) -> String {
    let stem: String = title
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .collect();
    let stem = stem.trim();
    if stem.is_empty() {
        "story".to_owned()
    } else {
        stem.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn a_continuation_meets_the_cut_text_with_one_space_at_most() {
        assert_eq!(joint("She opened the", "door."), " ");
        assert_eq!(joint("She opened the", " door."), "");
        assert_eq!(joint("She said ", "nothing."), "");
        assert_eq!(joint("The end", ", she said."), "");
        assert_eq!(joint("The end.", "\n\nMorning came."), "");
        assert_eq!(joint("", "Start."), "");
        assert_eq!(joint("Start.", ""), "");
    }

    use proptest::prelude::*;

    #[test]
    fn errors_read_as_part_of_a_sentence() {
        assert_eq!(
            plain_error("TransportError: io: Connection refused (os error 111)"),
            "connection refused"
        );
        assert_eq!(
            plain_error("Network unreachable (os error 101)"),
            "network unreachable"
        );
        assert_eq!(plain_error("HTTP 502"), "HTTP 502");
    }

    #[test]
    fn counts_say_one_in_the_singular() {
        assert_eq!(count_of(1, "entry", "entries"), "1 entry");
        assert_eq!(count_of(0, "entry", "entries"), "0 entries");
        assert_eq!(count_of(12_345, "model", "models"), "12,345 models");
    }

    /// The definition `count_words` speeds up: every char decoded.
    fn words_char_by_char(text: &str) -> u64 {
        let mut words = 0u64;
        let mut in_word = false;
        for c in text.chars() {
            if is_cjk(c) {
                words += 1;
                in_word = false;
            } else if c.is_whitespace() {
                in_word = false;
            } else if !in_word {
                words += 1;
                in_word = true;
            }
        }
        words
    }

    proptest! {
        #[test]
        fn the_byte_fast_path_counts_as_char_by_char(text in "[ a-z\\t\\n\\r\u{a0}\u{85}\u{2003}é竜が한\u{1f409}.,]{0,64}") {
            prop_assert_eq!(count_words(&text), words_char_by_char(&text));
        }

        #[test]
        fn ascii_text_counts_as_char_by_char(text in "[ a-z\\t\\n\\r\u{b}\u{c}.,!-]{0,800}") {
            prop_assert_eq!(count_words(&text), words_char_by_char(&text));
        }

        #[test]
        fn any_string_counts_as_char_by_char(text in any::<String>()) {
            prop_assert_eq!(count_words(&text), words_char_by_char(&text));
        }
    }

    #[test]
    fn file_stems_drop_path_characters() {
        assert_eq!(file_stem("The Salt/Road: part 2"), "The SaltRoad part 2");
        assert_eq!(file_stem("../"), "story");
    }

    #[test]
    fn sentences_get_one_full_stop() {
        assert_eq!(end_sentence("lost in the middle"), "lost in the middle.");
        assert_eq!(end_sentence("Done! "), "Done!");
    }

    #[test]
    fn counts_words_across_whitespace_kinds() {
        assert_eq!(count_words(""), 0);
        assert_eq!(count_words("  The door\topens.\n\nSlowly "), 4);
        assert_eq!(count_words("我打开门"), 4);
        assert_eq!(count_words("Mara said 你好"), 4);
    }

    #[test]
    fn preview_takes_first_non_blank_line_and_cuts() {
        assert_eq!(preview("\n  hello world\nmore", 50), "hello world");
        assert_eq!(preview("abcdefghij", 5), "abcd…");
    }
}
