//! The way on from a provider failure, chosen by its kind: the key checked, a wait, another try,
//! or setting a provider up. Narrations and connection tests both offer it.

use crate::providers::ProviderError;
use crate::state::{Action, NextStep};

/// What to offer after a provider failure: the key checked, a wait, or simply `again`.
pub(super) fn next_step(
    error: &ProviderError,
    profile: Option<&str>,
    again: Action,
) -> Option<NextStep> {
    match error {
        ProviderError::Auth { .. } => profile.map(|p| NextStep::CheckKey {
            profile_id: p.to_owned(),
        }),
        // No profile could be chosen: the way on is to add one.
        ProviderError::Config(_) if profile.is_none() => Some(NextStep::SetUpProvider),
        ProviderError::RateLimited { retry_after, .. } => {
            let wait = retry_after.unwrap_or(DEFAULT_RATE_LIMIT_WAIT);
            let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
            Some(NextStep::RetryAt {
                at_ms: crate::domain::now_ms().saturating_add(wait_ms),
                again: Box::new(again),
            })
        }
        // What the client itself retries before the first token, and a stream that stalled.
        e if e.is_retryable() || matches!(e, ProviderError::IdleTimeout { .. }) => {
            Some(NextStep::Retry(Box::new(again)))
        }
        _ => None,
    }
}

/// How long to wait when a provider limits requests without saying for how long.
const DEFAULT_RATE_LIMIT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
