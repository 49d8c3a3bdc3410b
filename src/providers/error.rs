//! The one error every provider call reports, carrying the provider's own words from its error body.

use std::time::Duration;

/// What went wrong, in the groups a user can act on. `provider` is the preset's label.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProviderError {
    #[error("The key was rejected by {provider} ({status}): {message}")]
    Auth {
        provider: String,
        status: u16,
        message: String,
    },
    #[error("{provider} does not know the model “{model}”: {message}")]
    ModelNotFound {
        provider: String,
        model: String,
        message: String,
    },
    #[error("{provider} is rate limiting requests{}: {message}", retry_hint(*retry_after))]
    RateLimited {
        provider: String,
        retry_after: Option<Duration>,
        message: String,
    },
    #[error("The prompt is too long for this model at {provider}: {message}")]
    ContextTooLong { provider: String, message: String },
    #[error("{provider} refused the request ({status}): {message}")]
    BadRequest {
        provider: String,
        status: u16,
        message: String,
    },
    #[error("{provider} had a server error ({status}): {message}")]
    Server {
        provider: String,
        status: u16,
        message: String,
    },
    #[error("{provider} sent nothing for {} s; the request was given up.", after.as_secs())]
    IdleTimeout { provider: String, after: Duration },
    #[error("Could not reach {provider}: {detail}")]
    Network { provider: String, detail: String },
    #[error("{provider} sent something Fabula could not read: {detail}")]
    Protocol { provider: String, detail: String },
    #[error("{0}")]
    Config(String),
}

fn retry_hint(after: Option<Duration>) -> String {
    match after {
        Some(d) => format!(" (try again in {} s)", d.as_secs().max(1)),
        None => String::new(),
    }
}

/// The error groups, for exit codes and for deciding whether to retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Auth,
    ModelNotFound,
    RateLimited,
    ContextTooLong,
    BadRequest,
    Server,
    IdleTimeout,
    Network,
    Protocol,
    Config,
}

impl ErrorKind {
    /// `fabula provider check` exits with these, so scripts can tell failures apart.
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Auth => 20,
            ErrorKind::ModelNotFound => 21,
            ErrorKind::RateLimited => 22,
            ErrorKind::ContextTooLong => 23,
            ErrorKind::BadRequest => 24,
            ErrorKind::Server => 25,
            ErrorKind::IdleTimeout => 26,
            ErrorKind::Network => 27,
            ErrorKind::Protocol => 28,
            ErrorKind::Config => 29,
        }
    }
}

impl ProviderError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ProviderError::Auth { .. } => ErrorKind::Auth,
            ProviderError::ModelNotFound { .. } => ErrorKind::ModelNotFound,
            ProviderError::RateLimited { .. } => ErrorKind::RateLimited,
            ProviderError::ContextTooLong { .. } => ErrorKind::ContextTooLong,
            ProviderError::BadRequest { .. } => ErrorKind::BadRequest,
            ProviderError::Server { .. } => ErrorKind::Server,
            ProviderError::IdleTimeout { .. } => ErrorKind::IdleTimeout,
            ProviderError::Network { .. } => ErrorKind::Network,
            ProviderError::Protocol { .. } => ErrorKind::Protocol,
            ProviderError::Config(_) => ErrorKind::Config,
        }
    }

    /// Worth another attempt before any text arrived: the request may succeed as it is.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ProviderError::RateLimited { .. }
                | ProviderError::Server { .. }
                | ProviderError::Network { .. }
        )
    }

    /// Turns an HTTP error status and the provider's message into the right group.
    pub fn from_status(
        provider: &str,
        status: u16,
        message: String,
        code: &str,
        model: &str,
        retry_after: Option<Duration>,
    ) -> Self {
        let provider = provider.to_owned();
        let lower = format!("{} {}", message.to_lowercase(), code.to_lowercase());
        let too_long = [
            "context_length",
            "context length",
            "context window",
            "too many tokens",
            "maximum context",
            "prompt is too long",
            "exceeds the maximum",
            "input token count",
        ]
        .iter()
        .any(|needle| lower.contains(needle));
        let about_model = lower.contains("model") || code.contains("model");
        // Gemini answers a bad key with 400 INVALID_ARGUMENT, not 401.
        let bad_key = lower.contains("api key not valid") || lower.contains("api_key_invalid");
        match status {
            401 | 403 => ProviderError::Auth {
                provider,
                status,
                message,
            },
            400 if bad_key => ProviderError::Auth {
                provider,
                status,
                message,
            },
            404 if about_model => ProviderError::ModelNotFound {
                provider,
                model: model.to_owned(),
                message,
            },
            429 => ProviderError::RateLimited {
                provider,
                retry_after,
                message,
            },
            413 => ProviderError::ContextTooLong { provider, message },
            400..=499 if too_long => ProviderError::ContextTooLong { provider, message },
            400..=499 if code == "model_not_found" => ProviderError::ModelNotFound {
                provider,
                model: model.to_owned(),
                message,
            },
            500..=599 => ProviderError::Server {
                provider,
                status,
                message,
            },
            _ => ProviderError::BadRequest {
                provider,
                status,
                message,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_messages_map_to_groups() {
        let e = |status, msg: &str, code| {
            ProviderError::from_status("X", status, msg.into(), code, "m", None).kind()
        };
        assert_eq!(e(401, "invalid x-api-key", ""), ErrorKind::Auth);
        assert_eq!(
            e(404, "model: m", "not_found_error"),
            ErrorKind::ModelNotFound
        );
        assert_eq!(e(404, "no route", ""), ErrorKind::BadRequest);
        assert_eq!(e(429, "slow down", ""), ErrorKind::RateLimited);
        assert_eq!(
            e(
                400,
                "This model's maximum context length is 8192 tokens",
                ""
            ),
            ErrorKind::ContextTooLong
        );
        assert_eq!(e(529, "Overloaded", ""), ErrorKind::Server);
        let shown = ProviderError::from_status(
            "Anthropic",
            401,
            "invalid x-api-key".into(),
            "authentication_error",
            "m",
            None,
        )
        .to_string();
        assert_eq!(
            shown,
            "The key was rejected by Anthropic (401): invalid x-api-key"
        );
    }
}
