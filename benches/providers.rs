//! Provider streaming costs: SSE decoding throughput, and the whole path of one delta from the
//! socket (ureq, SSE, OpenAI chunk parsing, `<think>` splitting) into a channel like the UI's.
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fabula::domain::Secret;
use fabula::jobs::CancelToken;
use fabula::providers::{self, ChatRequest, Endpoint, Message, sse::SseDecoder};

const DELTAS: usize = 20_000;

fn openai_stream(deltas: usize) -> String {
    let mut body = String::new();
    for i in 0..deltas {
        body.push_str(&format!(
            "data: {{\"id\":\"chatcmpl-7\",\"object\":\"chat.completion.chunk\",\"created\":1730000000,\"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\" word{i}\"}},\"logprobs\":null,\"finish_reason\":null}}]}}\n\n"
        ));
    }
    body.push_str("data: {\"id\":\"chatcmpl-7\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
    body.push_str("data: [DONE]\n\n");
    body
}

fn sse_decoding(c: &mut Criterion) {
    let stream = openai_stream(DELTAS);
    let mut group = c.benchmark_group("sse");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_function("decode 16 KiB reads", |b| {
        b.iter(|| {
            let mut decoder = SseDecoder::new();
            let mut events = 0;
            for chunk in stream.as_bytes().chunks(16 * 1024) {
                events += decoder.push(chunk).len();
            }
            assert_eq!(events, DELTAS + 2);
        });
    });
    group.finish();
}

/// Answers every connection with `body` as an SSE reply, then closes it.
fn serve(body: String) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut request = Vec::new();
            let mut buf = [0u8; 8192];
            // Read the headers, then as much body as they announce.
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request);
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if request.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s
                .write_all(head.as_bytes())
                .and_then(|()| s.write_all(body.as_bytes()));
        }
    });
    port
}

fn socket_to_channel(c: &mut Criterion) {
    let port = serve(openai_stream(DELTAS));
    let endpoint = Endpoint::new(
        providers::preset("openai-compatible").expect("preset"),
        &format!("http://127.0.0.1:{port}/v1"),
        Some(Secret::new("k")),
    )
    .expect("endpoint");
    let request = ChatRequest::new("m", vec![Message::user("go")]);
    let mut group = c.benchmark_group("stream");
    group.throughput(Throughput::Elements(DELTAS as u64));
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("socket to channel, per delta", |b| {
        b.iter(|| {
            let (tx, rx) = std::sync::mpsc::channel();
            let done = providers::stream_chat(&endpoint, &request, &CancelToken::new(), &mut |d| {
                let _ = tx.send(d.clone());
            })
            .expect("stream");
            assert_eq!(rx.try_iter().count(), DELTAS);
            done
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = sse_decoding, socket_to_channel
}
criterion_main!(benches);
