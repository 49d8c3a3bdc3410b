//! Token counts with OpenAI's o200k_base BPE: close enough for every provider's budget, exact for OpenAI's.

/// Tokens in `text` as o200k_base counts them. The tokenizer's tables load once per process on
/// first use (a few milliseconds); callers that must not pay that on the UI thread warm it up on a job.
pub fn count_tokens(text: &str) -> usize {
    if text.is_empty() {
        return 0;
    }
    bpe_openai::o200k_base().count(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_like_o200k_base() {
        // Reference counts from OpenAI's tiktoken with o200k_base.
        assert_eq!(count_tokens(""), 0);
        assert_eq!(count_tokens("Hello, world!"), 4);
        assert_eq!(count_tokens("Hello world"), 2);
    }
}
