//! JSON laid out for reading (two-space indents), token for token as it came: keys keep their
//! order and strings their escapes, which re-serialising a parsed value would not promise.

/// The indented form of `raw`, or `None` when it is not JSON (then it is shown as it is).
pub fn pretty_json(raw: &str) -> Option<String> {
    serde_json::from_str::<serde::de::IgnoredAny>(raw).ok()?;
    let mut out = String::with_capacity(raw.len() + raw.len() / 4);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = raw.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                while chars.next_if(|c| c.is_ascii_whitespace()).is_some() {}
                if chars.peek().is_some_and(|next| matches!(next, '}' | ']')) {
                    continue;
                }
                depth += 1;
                newline(&mut out, depth);
            }
            '}' | ']' => {
                // An empty pair was closed right after its opening, at the same depth.
                if !matches!(out.chars().last(), Some('{' | '[')) {
                    depth = depth.saturating_sub(1);
                    newline(&mut out, depth);
                }
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_and_keeps_order_and_escapes() {
        let raw = r#"{"z":1,"a":[{"k":"say \"hi\", {ok}"},[],{}],"e":"\u00e9 \\"}"#;
        let pretty = pretty_json(raw).expect("json");
        assert_eq!(
            pretty,
            "{\n  \"z\": 1,\n  \"a\": [\n    {\n      \"k\": \"say \\\"hi\\\", {ok}\"\n    },\n    [],\n    {}\n  ],\n  \"e\": \"\\u00e9 \\\\\"\n}"
        );
        let back: serde_json::Value = serde_json::from_str(&pretty).expect("still json");
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(raw).expect("json")
        );
    }

    #[test]
    fn already_spaced_input_comes_out_the_same_and_non_json_is_refused() {
        let spaced = "{ \"a\" : [ 1 , 2 ] , \"b\" : { } }";
        assert_eq!(
            pretty_json(spaced).as_deref(),
            Some("{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}")
        );
        assert_eq!(pretty_json("not json {"), None);
        assert_eq!(pretty_json(""), None);
    }
}
