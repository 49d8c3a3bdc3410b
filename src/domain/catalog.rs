//! The provider presets users of the original app expect: wire protocol, default base URL,
//! whether a key is needed, where a key may be found in the environment, and extra headers.

/// The wire protocols Fabula speaks; every preset uses one of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// OpenAI chat completions with SSE, used by every OpenAI-compatible service.
    OpenAi,
    /// Anthropic Messages with SSE.
    Anthropic,
    /// Google Gemini `generateContent` / `streamGenerateContent?alt=sse`.
    Gemini,
    /// Ollama's native `/api/chat` with NDJSON.
    Ollama,
}

impl Protocol {
    pub fn label(self) -> &'static str {
        match self {
            Protocol::OpenAi => "OpenAI chat completions",
            Protocol::Anthropic => "Anthropic Messages",
            Protocol::Gemini => "Gemini generateContent",
            Protocol::Ollama => "Ollama /api/chat",
        }
    }
}

/// How a preset spells reasoning effort beyond its protocol's default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReasoningStyle {
    /// The protocol's own field (`reasoning_effort`, `thinking`, `thinkingConfig`, `think`).
    Native,
    /// OpenRouter's `reasoning: {max_tokens}`.
    OpenRouter,
    /// The model decides (DeepSeek's reasoner, local servers): nothing is sent; thoughts are
    /// read from `reasoning_content` or `<think>` tags.
    ModelDecides,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    pub id: &'static str,
    pub label: &'static str,
    pub protocol: Protocol,
    /// Empty for "OpenAI-compatible", whose address the user must give.
    pub base_url: &'static str,
    pub needs_key: bool,
    /// Environment variables that hold a key for this preset, in order of preference.
    pub key_env: &'static [&'static str],
    pub extra_headers: &'static [(&'static str, &'static str)],
    pub reasoning: ReasoningStyle,
    /// Whether the model list carries context length and prices (OpenRouter).
    pub rich_model_list: bool,
}

const fn openai_compatible(
    id: &'static str,
    label: &'static str,
    base_url: &'static str,
    key_env: &'static [&'static str],
) -> Preset {
    Preset {
        id,
        label,
        protocol: Protocol::OpenAi,
        base_url,
        needs_key: true,
        key_env,
        extra_headers: &[],
        reasoning: ReasoningStyle::Native,
        rich_model_list: false,
    }
}

const fn local(id: &'static str, label: &'static str, base_url: &'static str) -> Preset {
    Preset {
        needs_key: false,
        reasoning: ReasoningStyle::ModelDecides,
        ..openai_compatible(id, label, base_url, &[])
    }
}

pub const PRESETS: &[Preset] = &[
    openai_compatible(
        "openai",
        "OpenAI",
        "https://api.openai.com/v1",
        &["OPENAI_API_KEY"],
    ),
    Preset {
        id: "anthropic",
        label: "Anthropic",
        protocol: Protocol::Anthropic,
        base_url: "https://api.anthropic.com/v1",
        needs_key: true,
        key_env: &["ANTHROPIC_API_KEY"],
        extra_headers: &[],
        reasoning: ReasoningStyle::Native,
        rich_model_list: false,
    },
    Preset {
        id: "google",
        label: "Google Gemini",
        protocol: Protocol::Gemini,
        base_url: "https://generativelanguage.googleapis.com/v1beta",
        needs_key: true,
        key_env: &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        extra_headers: &[],
        reasoning: ReasoningStyle::Native,
        rich_model_list: false,
    },
    Preset {
        reasoning: ReasoningStyle::OpenRouter,
        extra_headers: &[
            ("HTTP-Referer", "https://github.com/fabula-app/fabula"),
            ("X-Title", "Fabula"),
        ],
        rich_model_list: true,
        ..openai_compatible(
            "openrouter",
            "OpenRouter",
            "https://openrouter.ai/api/v1",
            &["OPENROUTER_API_KEY"],
        )
    },
    Preset {
        reasoning: ReasoningStyle::ModelDecides,
        ..openai_compatible(
            "deepseek",
            "DeepSeek",
            "https://api.deepseek.com/v1",
            &["DEEPSEEK_API_KEY"],
        )
    },
    openai_compatible(
        "mistral",
        "Mistral",
        "https://api.mistral.ai/v1",
        &["MISTRAL_API_KEY"],
    ),
    openai_compatible(
        "groq",
        "Groq",
        "https://api.groq.com/openai/v1",
        &["GROQ_API_KEY"],
    ),
    openai_compatible("xai", "xAI", "https://api.x.ai/v1", &["XAI_API_KEY"]),
    openai_compatible(
        "zhipu",
        "Zhipu",
        "https://open.bigmodel.cn/api/paas/v4",
        &["ZHIPU_API_KEY", "ZHIPUAI_API_KEY"],
    ),
    openai_compatible(
        "nanogpt",
        "NanoGPT",
        "https://nano-gpt.com/api/v1",
        &["NANOGPT_API_KEY"],
    ),
    openai_compatible(
        "chutes",
        "Chutes",
        "https://api.chutes.ai",
        &["CHUTES_API_KEY"],
    ),
    Preset {
        needs_key: false,
        ..openai_compatible(
            "pollinations",
            "Pollinations",
            "https://text.pollinations.ai/openai",
            &["POLLINATIONS_API_KEY"],
        )
    },
    openai_compatible(
        "nvidia-nim",
        "NVIDIA NIM",
        "https://integrate.api.nvidia.com/v1",
        &["NVIDIA_API_KEY", "NGC_API_KEY"],
    ),
    Preset {
        id: "ollama",
        label: "Ollama",
        protocol: Protocol::Ollama,
        base_url: "http://localhost:11434",
        needs_key: false,
        key_env: &[],
        extra_headers: &[],
        reasoning: ReasoningStyle::Native,
        rich_model_list: false,
    },
    local("lmstudio", "LM Studio", "http://localhost:1234/v1"),
    local("llamacpp", "llama.cpp", "http://localhost:8080/v1"),
    local("koboldcpp", "KoboldCpp", "http://localhost:5001/v1"),
    local("vllm", "vLLM", "http://localhost:8000/v1"),
    Preset {
        needs_key: false,
        ..local("openai-compatible", "OpenAI-compatible", "")
    },
];

/// The preset with this id (as the original app spells them).
pub fn preset(id: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_of_the_original_is_there_once() {
        let ids: Vec<&str> = PRESETS.iter().map(|p| p.id).collect();
        for id in [
            "openrouter",
            "openai",
            "anthropic",
            "google",
            "xai",
            "groq",
            "deepseek",
            "mistral",
            "zhipu",
            "nanogpt",
            "chutes",
            "pollinations",
            "nvidia-nim",
            "ollama",
            "lmstudio",
            "llamacpp",
            "openai-compatible",
            // Fabula's own: local servers the first launch looks for.
            "koboldcpp",
            "vllm",
        ] {
            assert_eq!(ids.iter().filter(|i| **i == id).count(), 1, "{id}");
        }
        assert_eq!(ids.len(), 19);
        assert_eq!(preset("openrouter").map(|p| p.extra_headers.len()), Some(2));
    }
}
