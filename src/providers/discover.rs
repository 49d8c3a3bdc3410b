//! Local model servers found on their default ports (Ollama, LM Studio, llama.cpp, KoboldCpp,
//! vLLM), so a first launch can offer each that answers as a ready profile.

use std::time::Duration;

use super::{Endpoint, ModelInfo, Preset, RetryPolicy, Timeouts, list_models, preset};
use crate::jobs::CancelToken;

/// The local servers looked for, by preset, at the preset's own address.
pub const LOCAL_PRESETS: &[&str] = &["ollama", "lmstudio", "llamacpp", "koboldcpp", "vllm"];

/// A server that answered with its model list.
#[derive(Clone, Debug)]
pub struct LocalServer {
    pub preset: &'static Preset,
    pub base_url: String,
    pub models: Vec<ModelInfo>,
}

/// Asks each `(preset id, address)` for its models; an empty address is the preset's own. A port
/// nobody listens on refuses at once, so looking costs about nothing when nothing runs.
pub fn discover_local(addresses: &[(String, String)], cancel: &CancelToken) -> Vec<LocalServer> {
    let mut found = Vec::new();
    for (id, address) in addresses {
        if cancel.is_cancelled() {
            break;
        }
        let Some(preset) = preset(id) else {
            continue;
        };
        let Ok(mut endpoint) = Endpoint::new(preset, address, None) else {
            continue;
        };
        endpoint.timeouts = Timeouts {
            connect: Duration::from_millis(500),
            idle: Duration::from_secs(2),
        };
        endpoint.retry = RetryPolicy {
            attempts: 1,
            ..RetryPolicy::default()
        };
        match list_models(&endpoint, cancel) {
            Ok(models) => found.push(LocalServer {
                preset,
                base_url: endpoint.base_url.clone(),
                models,
            }),
            Err(e) => log::debug!("no {} at {}: {e}", preset.label, endpoint.base_url),
        }
    }
    found
}

/// The default addresses of every local server.
pub fn default_local_addresses() -> Vec<(String, String)> {
    LOCAL_PRESETS
        .iter()
        .map(|id| ((*id).to_owned(), String::new()))
        .collect()
}
