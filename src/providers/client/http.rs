//! One HTTP call to a provider: an agent with the endpoint's timeouts that a cancel can interrupt,\nthe request sent, and every way it can fail turned into a ProviderError that says which.

use crate::jobs::CancelToken;
use crate::providers::{
    ChatRequest, Endpoint, HttpCall, Protocol, ProviderError, anthropic, gemini, ollama, openai,
};
use std::io::Read;
use std::time::Duration;

/// Error bodies are read up to this size: enough for any provider's message, not a memory risk.
pub(super) const ERROR_BODY_LIMIT: u64 = 64 * 1024;

pub(super) fn chat_call(endpoint: &Endpoint, request: &ChatRequest) -> HttpCall {
    match endpoint.preset.protocol {
        Protocol::OpenAi => openai::chat_call(endpoint, request),
        Protocol::Anthropic => anthropic::chat_call(endpoint, request),
        Protocol::Gemini => gemini::chat_call(endpoint, request),
        Protocol::Ollama => ollama::chat_call(endpoint, request),
    }
}

/// An agent of its own per call, so a cancel can shut down exactly this call's connection.
pub(super) fn agent_for(endpoint: &Endpoint, cancel: &CancelToken) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .timeout_connect(Some(endpoint.timeouts.connect))
        .timeout_per_read(Some(endpoint.timeouts.idle))
        .http_status_as_error(false)
        .user_agent(concat!("Fabula/", env!("CARGO_PKG_VERSION")))
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let for_cancel = agent.clone();
    cancel.on_cancel(move || for_cancel.shutdown());
    agent
}

pub(super) fn send(
    agent: &ureq::Agent,
    call: &HttpCall,
) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
    match &call.body {
        Some(body) => {
            let mut req = agent.post(&call.url);
            for (k, v) in &call.headers {
                req = req.header(k, v);
            }
            // One agent per call, so the connection is never reused: say so, and the server
            // closes it as soon as the reply ends.
            req.header("Accept-Encoding", "identity")
                .header("Connection", "close")
                .send(&body[..])
        }
        None => {
            let mut req = agent.get(&call.url);
            for (k, v) in &call.headers {
                req = req.header(k, v);
            }
            req.call()
        }
    }
}

/// Words for a transport error, in the group the user can act on.
pub(super) fn transport_error(endpoint: &Endpoint, e: ureq::Error) -> ProviderError {
    let provider = endpoint.label().to_owned();
    match e {
        ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => {
            ProviderError::Network {
                provider,
                detail: format!(
                    "no connection to {} within {} s",
                    endpoint.base_url,
                    endpoint.timeouts.connect.as_secs()
                ),
            }
        }
        ureq::Error::Timeout(_) => ProviderError::IdleTimeout {
            provider,
            after: endpoint.timeouts.idle,
        },
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            ProviderError::IdleTimeout {
                provider,
                after: endpoint.timeouts.idle,
            }
        }
        ureq::Error::HostNotFound => ProviderError::Network {
            provider,
            detail: format!("the host of {} was not found", endpoint.base_url),
        },
        ureq::Error::Io(io) => ProviderError::Network {
            provider,
            detail: match io.kind() {
                std::io::ErrorKind::ConnectionRefused => format!(
                    "nothing is listening at {} (is the server running?)",
                    endpoint.base_url
                ),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted => {
                    format!("the connection to {} was cut off", endpoint.base_url)
                }
                _ => format!(
                    "{} ({})",
                    crate::domain::plain_error(&io.to_string()),
                    endpoint.base_url
                ),
            },
        },
        ureq::Error::ConnectionFailed => ProviderError::Network {
            provider,
            detail: format!("the connection to {} failed", endpoint.base_url),
        },
        other => ProviderError::Network {
            provider,
            detail: crate::domain::plain_error(&other.to_string()),
        },
    }
}

pub(super) fn retry_after(response: &ureq::http::Response<ureq::Body>) -> Option<Duration> {
    let value = response.headers().get("retry-after")?.to_str().ok()?;
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// Reads an error reply and turns it into the right error, with the provider's own message.
pub(super) fn status_error(
    endpoint: &Endpoint,
    model: &str,
    response: ureq::http::Response<ureq::Body>,
) -> ProviderError {
    let status = response.status().as_u16();
    let after = retry_after(&response);
    let mut body = String::new();
    // A body cut off by a dropped connection still carries the status, which is what matters.
    let _ = response
        .into_body()
        .into_with_config()
        .limit(ERROR_BODY_LIMIT)
        .lossy_utf8(true)
        .reader()
        .read_to_string(&mut body);
    let (message, code) = crate::providers::common_error_details(&body).unwrap_or_else(|| {
        let text = body.trim();
        let text = if text.is_empty() {
            "no details given".to_owned()
        } else {
            crate::domain::preview(text, 300)
        };
        (text, String::new())
    });
    ProviderError::from_status(endpoint.label(), status, message, &code, model, after)
}

/// A reply that is not the protocol's (an HTML page, garbage bytes), quoting how it starts.
pub(super) fn unreadable_reply(endpoint: &Endpoint, start: &[u8]) -> ProviderError {
    let quoted: String = String::from_utf8_lossy(start)
        .chars()
        .take(80)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    ProviderError::Protocol {
        provider: endpoint.label().to_owned(),
        detail: format!(
            "the reply is not a model's answer (it starts with “{}”); check the profile's address",
            quoted.trim()
        ),
    }
}

pub(super) fn read_error(endpoint: &Endpoint, e: std::io::Error) -> ProviderError {
    match ureq::Error::from(e) {
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            ProviderError::Network {
                provider: endpoint.label().to_owned(),
                detail: "the connection was lost in the middle of the reply".into(),
            }
        }
        other => transport_error(endpoint, other),
    }
}
