//! Splits `<think>…</think>` out of the text of models that reason inline (local models,
//! some gateways), also when a tag is cut across deltas.

use super::Delta;

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

#[derive(Debug, Default)]
pub struct ThinkSplitter {
    inside: bool,
    /// The tail of the last delta that might be the start of a tag.
    pending: String,
}

impl ThinkSplitter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Turns the next piece of model text into text and reasoning deltas.
    pub fn push(&mut self, piece: &str, out: &mut Vec<Delta>) {
        let mut buf = std::mem::take(&mut self.pending);
        buf.push_str(piece);
        let mut rest = buf.as_str();
        loop {
            let tag = if self.inside { CLOSE } else { OPEN };
            if let Some(at) = rest.find(tag) {
                self.emit(&rest[..at], out);
                rest = &rest[at + tag.len()..];
                self.inside = !self.inside;
                continue;
            }
            // Hold back a suffix that could still grow into the tag.
            let keep = (1..tag.len())
                .rev()
                .find(|&n| {
                    rest.len() >= n
                        && rest.is_char_boundary(rest.len() - n)
                        && tag.starts_with(&rest[rest.len() - n..])
                })
                .unwrap_or(0);
            let (now, later) = rest.split_at(rest.len() - keep);
            self.emit(now, out);
            self.pending = later.to_owned();
            return;
        }
    }

    /// Whatever was held back, once the stream has ended.
    pub fn finish(&mut self, out: &mut Vec<Delta>) {
        let rest = std::mem::take(&mut self.pending);
        self.emit(&rest, out);
    }

    fn emit(&self, text: &str, out: &mut Vec<Delta>) {
        if text.is_empty() {
            return;
        }
        out.push(if self.inside {
            Delta::Reasoning(text.to_owned())
        } else {
            Delta::Text(text.to_owned())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(pieces: &[&str]) -> (String, String) {
        let mut s = ThinkSplitter::new();
        let mut out = Vec::new();
        for p in pieces {
            s.push(p, &mut out);
        }
        s.finish(&mut out);
        let mut text = String::new();
        let mut reasoning = String::new();
        for d in out {
            match d {
                Delta::Text(t) => text.push_str(&t),
                Delta::Reasoning(r) => reasoning.push_str(&r),
            }
        }
        (text, reasoning)
    }

    #[test]
    fn tags_in_one_piece_and_split_across_pieces() {
        let whole = split(&["<think>plan the scene</think>The door creaks."]);
        assert_eq!(whole, ("The door creaks.".into(), "plan the scene".into()));
        let cut = split(&[
            "<thi",
            "nk>plan the",
            " scene</th",
            "ink>The door",
            " creaks.",
        ]);
        assert_eq!(cut, whole);
        let bytewise: Vec<String> = "<think>a</think>b".chars().map(|c| c.to_string()).collect();
        let refs: Vec<&str> = bytewise.iter().map(String::as_str).collect();
        assert_eq!(split(&refs), ("b".into(), "a".into()));
    }

    #[test]
    fn text_that_only_looks_like_a_tag_is_kept() {
        assert_eq!(
            split(&["a <b> c <thin", "g"]),
            ("a <b> c <thing".into(), String::new())
        );
        assert_eq!(
            split(&["ends with <"]),
            ("ends with <".into(), String::new())
        );
        assert_eq!(split(&["é<thé"]), ("é<thé".into(), String::new()));
    }
}
