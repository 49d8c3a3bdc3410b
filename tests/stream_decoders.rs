//! Properties of the SSE and NDJSON decoders: any chunking of a valid stream decodes to the same
//! events as the stream itself, and arbitrary bytes never panic.

use fabula::providers::ndjson::NdjsonDecoder;
use fabula::providers::sse::{SseDecoder, SseEvent};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Spec {
    event: Option<String>,
    id: Option<String>,
    data: Vec<String>,
}

/// Text a field value may hold: anything but line breaks (and no BOM, which only means
/// something at the very start).
fn value() -> impl Strategy<Value = String> {
    "[^\r\n\u{feff}]{0,24}"
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        proptest::option::of("[a-z_]{1,12}"),
        proptest::option::of("[^\r\n\u{feff}\u{0}]{0,8}"),
        proptest::collection::vec(value(), 1..4),
    )
        .prop_map(|(event, id, data)| Spec { event, id, data })
}

fn encode(specs: &[Spec], eol: &str, comments: bool) -> Vec<u8> {
    let mut out = String::new();
    for s in specs {
        if comments {
            out.push_str(": keep-alive");
            out.push_str(eol);
        }
        if let Some(e) = &s.event {
            out.push_str(&format!("event: {e}{eol}"));
        }
        if let Some(id) = &s.id {
            out.push_str(&format!("id: {id}{eol}"));
        }
        for line in &s.data {
            out.push_str(&format!("data: {line}{eol}"));
        }
        out.push_str(eol);
    }
    out.into_bytes()
}

fn expected(specs: &[Spec]) -> Vec<SseEvent> {
    let mut last_id = None;
    specs
        .iter()
        .map(|s| {
            if s.id.is_some() {
                last_id = s.id.clone();
            }
            SseEvent {
                event: s.event.clone().unwrap_or_else(|| "message".into()),
                data: s.data.join("\n"),
                id: last_id.clone(),
            }
        })
        .collect()
}

/// Splits `bytes` at the given cut points (any byte offsets, in any order).
fn chunks(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for p in points {
        out.push(bytes[start..p].to_vec());
        start = p;
    }
    out.push(bytes[start..].to_vec());
    out
}

fn decode_sse(parts: &[Vec<u8>]) -> Vec<SseEvent> {
    let mut d = SseDecoder::new();
    parts.iter().flat_map(|p| d.push(p)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sse_any_chunking_gives_the_encoded_events(
        specs in proptest::collection::vec(spec(), 0..6),
        eol in prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
        comments in any::<bool>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let bytes = encode(&specs, eol, comments);
        let whole = decode_sse(std::slice::from_ref(&bytes));
        prop_assert_eq!(&whole, &expected(&specs));
        prop_assert_eq!(decode_sse(&chunks(&bytes, &cuts)), whole);
    }

    #[test]
    fn sse_arbitrary_bytes_never_panic_and_chunking_does_not_matter(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let whole = decode_sse(std::slice::from_ref(&bytes));
        prop_assert_eq!(decode_sse(&chunks(&bytes, &cuts)), whole);
    }

    #[test]
    fn ndjson_any_chunking_gives_the_same_lines(
        values in proptest::collection::vec("[^\r\n]{0,30}", 0..8),
        crlf in any::<bool>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let text: String = values.iter().map(|v| format!("{v}{eol}")).collect();
        let want: Vec<String> = values
            .iter()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect();
        let mut d = NdjsonDecoder::new();
        let mut got: Vec<String> = chunks(text.as_bytes(), &cuts).iter().flat_map(|p| d.push(p)).collect();
        got.extend(d.finish());
        prop_assert_eq!(got, want);
    }

    #[test]
    fn ndjson_arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut d = NdjsonDecoder::new();
        let _ = d.push(&bytes);
        let _ = d.finish();
    }
}
