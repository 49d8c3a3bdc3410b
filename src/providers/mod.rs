//! LLM provider protocols (the only module that will name ureq for LLM calls); for now the
//! stream decoders the protocols share.

pub mod ndjson;
pub mod sse;
