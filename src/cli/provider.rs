//! `fabula provider …`: list, add, remove and choose API profiles, and check a provider end to end
//! (models, a streamed reply, its latency and token counts), with exit codes per error kind.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use crate::domain::{ApiProfile, ProfileSource, Reasoning, Secret, Task, TaskAssignment};
use crate::jobs::CancelToken;
use crate::keys::KeyStore;
use crate::providers::{
    self, CHECK_PROMPT, ChatRequest, Delta, Finish, Message, PRESETS, ProviderError, ResolvedCall,
};
use crate::storage::Store;

#[derive(Subcommand, Debug)]
pub enum ProviderCommand {
    /// Print the profiles (saved and from the environment), the task assignments and the presets.
    List,
    /// Call a provider: list its models, stream a reply, print latency and token counts.
    Check {
        /// A preset id (see `fabula provider list`).
        #[arg(long, conflicts_with = "profile")]
        preset: Option<String>,
        /// A saved profile by name instead of a preset.
        #[arg(long)]
        profile: Option<String>,
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        #[arg(long, value_name = "KEY")]
        api_key: Option<String>,
        /// The model (default: the profile's, else the first listed one).
        #[arg(long)]
        model: Option<String>,
        #[arg(long, default_value = CHECK_PROMPT)]
        prompt: String,
        #[arg(long, default_value = "off", value_parser = parse_reasoning)]
        reasoning: Reasoning,
        /// Seconds of silence before giving up (default 120).
        #[arg(long, value_name = "SECONDS")]
        idle_timeout: Option<u64>,
    },
    /// Save a profile (the key is stored in the database, never printed).
    Add {
        name: String,
        #[arg(long)]
        preset: String,
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        #[arg(long, value_name = "KEY")]
        api_key: Option<String>,
        #[arg(long)]
        model: Option<String>,
    },
    /// Delete a saved profile.
    Remove { name: String },
    /// Make a profile the main one, or assign it to one task.
    Use {
        name: String,
        /// narrator, classifier, memory, suggestions, translation, wizard or lore-agent.
        #[arg(long, value_parser = parse_task)]
        task: Option<Task>,
        #[arg(long)]
        model: Option<String>,
    },
}

fn parse_reasoning(s: &str) -> Result<Reasoning, String> {
    Reasoning::parse(s).ok_or_else(|| "expected off, low, medium or high".into())
}

fn parse_task(s: &str) -> Result<Task, String> {
    Task::parse(s).filter(|t| *t != Task::Check).ok_or_else(|| {
        let names: Vec<&str> = Task::ASSIGNABLE.iter().map(|t| t.as_str()).collect();
        format!("expected one of {}", names.join(", "))
    })
}

/// Saved profiles followed by those found in the environment.
pub fn all_profiles(store: &Store) -> anyhow::Result<Vec<ApiProfile>> {
    let saved = store.list_profiles()?;
    Ok(providers::with_environment_profiles(saved))
}

fn find_profile(store: &Store, name: &str) -> anyhow::Result<ApiProfile> {
    let profiles = all_profiles(store)?;
    profiles
        .into_iter()
        .find(|p| p.name.eq_ignore_ascii_case(name) || p.id == name)
        .with_context(|| format!("No profile is named “{name}” (see `fabula provider list`)."))
}

pub fn provider(store: &mut Store, command: ProviderCommand) -> anyhow::Result<ExitCode> {
    match command {
        ProviderCommand::List => list(store, &mut std::io::stdout().lock()),
        ProviderCommand::Add {
            name,
            preset,
            base_url,
            api_key,
            model,
        } => {
            let name = name.trim().to_owned();
            if name.is_empty() {
                anyhow::bail!("A profile needs a name.");
            }
            let p = providers::preset(&preset).with_context(|| unknown_preset(&preset))?;
            let profile = ApiProfile {
                id: crate::domain::new_uuid(),
                name: name.clone(),
                preset: p.id.to_owned(),
                base_url: base_url.unwrap_or_default(),
                api_key: api_key.map(Secret::new),
                default_model: model.unwrap_or_default(),
                custom_models: Vec::new(),
                favourite_models: Vec::new(),
                key_in_keyring: false,
                source: ProfileSource::Stored,
            };
            providers::endpoint_for(&profile)?;
            store.save_profile(&profile)?;
            // As the window does: stored first, then moved to the OS key store when that is the
            // choice; a keyring that cannot take it leaves it in the database, and says so.
            if let Some(key) = profile.api_key.as_ref().filter(|k| !k.is_empty())
                && store.keys_in_keyring()?
            {
                let keys = crate::keys::OsKeyStore;
                match keys.write(&profile.id, key) {
                    Ok(()) => {
                        store.key_moved_to_keyring(&profile.id, key)?;
                    }
                    Err(e) => eprintln!(
                        "The key stays in Fabula's database: it could not be put in {}: {e}",
                        keys.name()
                    ),
                }
            }
            let made_main = store.main_profile_id()?.is_none();
            if made_main {
                store.set_main_profile_id(&profile.id)?;
            }
            println!(
                "Added profile “{name}” ({}){}.",
                p.label,
                if made_main {
                    ", now the main profile"
                } else {
                    ""
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        ProviderCommand::Remove { name } => {
            let profile = find_profile(store, &name)?;
            if let ProfileSource::Environment(var) = profile.source {
                anyhow::bail!(
                    "“{}” comes from the environment variable {var}; unset it to remove it.",
                    profile.name
                );
            }
            store.delete_profile(&profile.id)?;
            println!("Removed profile “{}”.", profile.name);
            Ok(ExitCode::SUCCESS)
        }
        ProviderCommand::Use { name, task, model } => {
            let profile = find_profile(store, &name)?;
            match task {
                None => {
                    store.set_main_profile_id(&profile.id)?;
                    if let Some(model) = model {
                        let mut updated = profile.clone();
                        updated.default_model = model;
                        if updated.source == ProfileSource::Stored {
                            store.save_profile(&updated)?;
                        }
                    }
                    println!("“{}” is now the main profile.", profile.name);
                }
                Some(task) => {
                    let mut a = store.task_assignment(task)?;
                    a.profile_id = Some(profile.id.clone());
                    a.model = model;
                    store.set_task_assignment(task, &a)?;
                    println!("{} now uses “{}”.", task.label(), profile.name);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ProviderCommand::Check {
            preset,
            profile,
            base_url,
            api_key,
            model,
            prompt,
            reasoning,
            idle_timeout,
        } => {
            let mut profile = match (preset, profile) {
                (_, Some(name)) => find_profile(store, &name)?,
                (Some(id), None) => {
                    let p = providers::preset(&id).with_context(|| unknown_preset(&id))?;
                    let env_key = p
                        .key_env
                        .iter()
                        .find_map(|var| std::env::var(var).ok().filter(|v| !v.trim().is_empty()));
                    ApiProfile {
                        id: format!("check:{}", p.id),
                        name: p.label.to_owned(),
                        preset: p.id.to_owned(),
                        base_url: String::new(),
                        api_key: env_key.map(Secret::new),
                        default_model: String::new(),
                        custom_models: Vec::new(),
                        favourite_models: Vec::new(),
                        key_in_keyring: false,
                        source: ProfileSource::Stored,
                    }
                }
                (None, None) => {
                    anyhow::bail!("Name a --preset or a --profile to check.");
                }
            };
            if let Some(url) = base_url {
                profile.base_url = url;
            }
            if let Some(key) = api_key {
                profile.api_key = Some(Secret::new(key));
            }
            if let Some(m) = model {
                profile.default_model = m;
            }
            let assignment = TaskAssignment {
                reasoning: Some(reasoning),
                ..TaskAssignment::default()
            };
            let mut call = match providers::resolve(
                Task::Check,
                std::slice::from_ref(&profile),
                None,
                &assignment,
            ) {
                Ok(call) => call,
                Err(e) => return Ok(report(&e)),
            };
            if let Err(e) = call.fetch_key(&crate::keys::OsKeyStore) {
                return Ok(report(&e));
            }
            if let Some(secs) = idle_timeout {
                call.endpoint.timeouts.idle = std::time::Duration::from_secs(secs.max(1));
            }
            check(store, &call, &prompt)
        }
    }
}

fn unknown_preset(id: &str) -> String {
    let ids: Vec<&str> = PRESETS.iter().map(|p| p.id).collect();
    format!("Unknown preset “{id}”; choose one of: {}.", ids.join(", "))
}

fn report(e: &ProviderError) -> ExitCode {
    eprintln!("fabula: {e}");
    ExitCode::from(e.kind().exit_code())
}

fn check(store: &Store, call: &ResolvedCall, prompt: &str) -> anyhow::Result<ExitCode> {
    let cancel = CancelToken::new();
    let models = match providers::list_models(&call.endpoint, &cancel) {
        Ok(models) => {
            let _ = store.cache_models(&call.profile.id, &models);
            eprintln!(
                "{} listed.",
                crate::domain::count_of(models.len() as u64, "model", "models")
            );
            models
        }
        // A server without a model list can still answer when the model is named.
        Err(e) if !call.model.is_empty() => {
            eprintln!("(the model list failed: {e})");
            Vec::new()
        }
        Err(e) => return Ok(report(&e)),
    };
    let model = if call.model.is_empty() {
        match models.first() {
            Some(m) => m.id.clone(),
            None => {
                return Ok(report(&ProviderError::Config(format!(
                    "{} listed no models; name one with --model.",
                    call.endpoint.label()
                ))));
            }
        }
    } else {
        call.model.clone()
    };
    eprintln!("model={model}");
    let mut request = ChatRequest::new(model.clone(), vec![Message::user(prompt)]);
    request.reasoning = call.reasoning;
    request.temperature = call.temperature;
    request.max_tokens = call.max_tokens.or(Some(200));
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    let outcome = providers::stream_chat(&call.endpoint, &request, &cancel, &mut |delta| {
        let _ = match delta {
            Delta::Text(t) => stdout.write_all(t.as_bytes()).and_then(|()| stdout.flush()),
            Delta::Reasoning(r) => stderr.write_all(r.as_bytes()),
        };
    });
    drop(stderr);
    if let Err(e) = store.record_usage(&providers::usage_record(
        call, &model, None, &outcome, &models,
    )) {
        log::warn!("the usage ledger could not be written: {e}");
    }
    let opt = |v: Option<u64>| v.map_or_else(|| "unknown".to_owned(), |n| n.to_string());
    match outcome {
        Ok(done) => {
            writeln!(stdout)?;
            writeln!(stdout, "first_token_ms={}", opt(done.first_token_ms))
                .and_then(|()| writeln!(stdout, "total_ms={}", done.total_ms))
                .and_then(|()| writeln!(stdout, "prompt_tokens={}", opt(done.usage.prompt_tokens)))
                .and_then(|()| {
                    writeln!(
                        stdout,
                        "completion_tokens={}",
                        opt(done.usage.completion_tokens)
                    )
                })?;
            if done.finish == Finish::Cancelled {
                eprintln!("(cancelled)");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            let _ = writeln!(stdout);
            drop(stdout);
            Ok(report(&failure.error))
        }
    }
}

/// `fabula provider list`.
fn list(store: &Store, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let profiles = all_profiles(store)?;
    let main = store.main_profile_id()?;
    let w = |out: &mut dyn Write, line: String| writeln!(out, "{line}");
    if profiles.is_empty() {
        w(
            out,
            "No profiles yet: add one with `fabula provider add NAME --preset P`.".into(),
        )?;
    }
    for p in &profiles {
        let source = match p.source {
            ProfileSource::Stored => "saved".to_owned(),
            ProfileSource::Environment(var) => format!("from {var}"),
        };
        let is_main = main.as_deref() == Some(p.id.as_str());
        w(
            out,
            format!(
                "{}{}\t{}\t{}\tmodel={}\tkey={}\t{source}",
                if is_main { "* " } else { "  " },
                p.name,
                p.preset,
                if p.base_url.is_empty() {
                    "(preset address)"
                } else {
                    &p.base_url
                },
                if p.default_model.is_empty() {
                    "(none)"
                } else {
                    &p.default_model
                },
                match &p.api_key {
                    Some(key) => key.hint(),
                    None if p.key_in_keyring => "in the OS keyring".to_owned(),
                    None => "none".to_owned(),
                },
            ),
        )?;
    }
    for task in Task::ASSIGNABLE {
        let a = store.task_assignment(task)?;
        if let Some(id) = &a.profile_id {
            let name = profiles
                .iter()
                .find(|p| &p.id == id)
                .map_or("(missing)", |p| p.name.as_str());
            w(
                out,
                format!(
                    "task {}\t{name}\tmodel={}",
                    task.as_str(),
                    a.model.as_deref().unwrap_or("(profile's)")
                ),
            )?;
        }
    }
    let ids: Vec<&str> = PRESETS.iter().map(|p| p.id).collect();
    w(out, format!("presets: {}", ids.join(", ")))?;
    Ok(ExitCode::SUCCESS)
}
