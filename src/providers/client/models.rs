//! Listing a provider's models, following pages, with a cap on how much is read.

use super::http::{agent_for, read_error, send, status_error, transport_error};
use crate::jobs::CancelToken;
use crate::providers::{
    Endpoint, ModelInfo, ModelPage, Protocol, ProviderError, anthropic, gemini, ollama, openai,
};
use std::io::Read;

/// Model lists (OpenRouter's is a few MB) are read up to this size.
const MODEL_LIST_LIMIT: u64 = 64 * 1024 * 1024;

const MAX_MODEL_PAGES: usize = 20;

/// Lists the models the endpoint offers (all pages), as the provider describes them.
pub fn list_models(
    endpoint: &Endpoint,
    cancel: &CancelToken,
) -> Result<Vec<ModelInfo>, ProviderError> {
    let agent = agent_for(endpoint, cancel);
    let mut models = Vec::new();
    let mut page: Option<String> = None;
    for _ in 0..MAX_MODEL_PAGES {
        let call = match endpoint.preset.protocol {
            Protocol::OpenAi => openai::models_call(endpoint),
            Protocol::Anthropic => anthropic::models_call(endpoint, page.as_deref()),
            Protocol::Gemini => gemini::models_call(endpoint, page.as_deref()),
            Protocol::Ollama => ollama::models_call(endpoint),
        };
        let cancelled = || ProviderError::Network {
            provider: endpoint.label().to_owned(),
            detail: "cancelled".into(),
        };
        let response = match send(&agent, &call) {
            Ok(r) => r,
            Err(_) if cancel.is_cancelled() => return Err(cancelled()),
            Err(e) => return Err(transport_error(endpoint, e)),
        };
        if !response.status().is_success() {
            return Err(status_error(endpoint, "", response));
        }
        let mut body = String::new();
        response
            .into_body()
            .into_with_config()
            .limit(MODEL_LIST_LIMIT)
            .lossy_utf8(true)
            .reader()
            .read_to_string(&mut body)
            .map_err(|e| read_error(endpoint, e))?;
        let parsed: Result<ModelPage, String> = match endpoint.preset.protocol {
            Protocol::OpenAi => openai::parse_models(&body),
            Protocol::Anthropic => anthropic::parse_models(&body),
            Protocol::Gemini => gemini::parse_models(&body),
            Protocol::Ollama => ollama::parse_models(&body),
        };
        let parsed = parsed.map_err(|detail| ProviderError::Protocol {
            provider: endpoint.label().to_owned(),
            detail,
        })?;
        models.extend(parsed.models);
        match parsed.next {
            Some(next) => page = Some(next),
            None => break,
        }
    }
    models.sort_by(|a, b| a.id.cmp(&b.id));
    models.dedup_by(|a, b| a.id == b.id);
    Ok(models)
}
