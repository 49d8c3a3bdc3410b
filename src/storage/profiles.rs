//! API profiles, the main profile, task assignments and cached model lists.

use rusqlite::{OptionalExtension, Row, params};
use serde_json::{Value, json};

use super::{Result, Store, StoreError};
use crate::domain::{
    ApiProfile, ModelInfo, Pricing, ProfileSource, Reasoning, Secret, Task, TaskAssignment, now_ms,
};

const MAIN_PROFILE_KEY: &str = "providers.main_profile";
const KEYRING_KEY: &str = "providers.keys_in_keyring";

const PROFILE_COLUMNS: &str = "id, name, preset, base_url, api_key, default_model, custom_models, favourite_models, key_in_keyring";

fn string_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn profile_from_row(row: &Row<'_>) -> rusqlite::Result<ApiProfile> {
    Ok(ApiProfile {
        id: row.get(0)?,
        name: row.get(1)?,
        preset: row.get(2)?,
        base_url: row.get(3)?,
        api_key: row.get::<_, Option<String>>(4)?.map(Secret::new),
        default_model: row.get(5)?,
        custom_models: string_list(&row.get::<_, String>(6)?),
        favourite_models: string_list(&row.get::<_, String>(7)?),
        key_in_keyring: row.get(8)?,
        source: ProfileSource::Stored,
    })
}

impl Store {
    /// The saved profiles, by name.
    pub fn list_profiles(&self) -> Result<Vec<ApiProfile>> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {PROFILE_COLUMNS} FROM api_profiles ORDER BY name COLLATE NOCASE"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], profile_from_row)
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    /// Inserts or updates a saved profile (by id). Names are unique, ignoring case.
    pub fn save_profile(&self, profile: &ApiProfile) -> Result<()> {
        let now = now_ms();
        let key = profile
            .api_key
            .as_ref()
            .filter(|k| !k.is_empty())
            .map(|k| k.expose().to_owned());
        self.conn
            .execute(
                "INSERT INTO api_profiles (id, name, preset, base_url, api_key, default_model,
                     custom_models, favourite_models, created_at, updated_at, key_in_keyring)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, preset = excluded.preset,
                     base_url = excluded.base_url, api_key = excluded.api_key,
                     key_in_keyring = excluded.key_in_keyring,
                     default_model = excluded.default_model,
                     custom_models = excluded.custom_models,
                     favourite_models = excluded.favourite_models,
                     updated_at = excluded.updated_at",
                params![
                    profile.id,
                    profile.name.trim(),
                    profile.preset,
                    profile.base_url.trim(),
                    key,
                    profile.default_model.trim(),
                    json!(profile.custom_models).to_string(),
                    json!(profile.favourite_models).to_string(),
                    now,
                    // A key given here is the one to keep: it is in the database until moved.
                    profile.key_in_keyring && key.is_none()
                ],
            )
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::ConstraintViolation) => StoreError::Conflict(format!(
                    "A profile named “{}” already exists.",
                    profile.name.trim()
                )),
                _ => self.err(e),
            })?;
        Ok(())
    }

    /// Removes a saved profile and everything pointing at it (assignments, cached models).
    pub fn delete_profile(&mut self, id: &str) -> Result<()> {
        let path = self.path.clone();
        let classify_tx = |e| super::classify(&path, e);
        let tx = self.conn.transaction().map_err(classify_tx)?;
        let removed = tx
            .execute("DELETE FROM api_profiles WHERE id = ?1", [id])
            .map_err(classify_tx)?;
        if removed == 0 {
            return Err(StoreError::NotFound(format!("The profile {id}")));
        }
        tx.execute(
            "UPDATE task_assignments SET profile_id = NULL, model = NULL WHERE profile_id = ?1",
            [id],
        )
        .map_err(classify_tx)?;
        tx.execute("DELETE FROM model_cache WHERE profile_id = ?1", [id])
            .map_err(classify_tx)?;
        tx.execute(
            "DELETE FROM settings WHERE key = ?1 AND value = ?2",
            params![MAIN_PROFILE_KEY, id],
        )
        .map_err(classify_tx)?;
        tx.commit().map_err(classify_tx)
    }

    /// Marks a profile's key as moved to the OS key store and removes it from the database,
    /// overwriting the freed bytes so the file keeps no copy of it. Only when the key is still
    /// `moved` (an edit in between wins).
    pub fn key_moved_to_keyring(&self, id: &str, moved: &Secret) -> Result<bool> {
        self.conn
            .pragma_update(None, "secure_delete", "ON")
            .map_err(|e| self.err(e))?;
        let changed = self.conn.execute(
            "UPDATE api_profiles SET api_key = NULL, key_in_keyring = 1 WHERE id = ?1 AND api_key = ?2",
            params![id, moved.expose()],
        );
        if let Err(e) = self.conn.pragma_update(None, "secure_delete", "OFF") {
            log::warn!("secure_delete could not be set back: {e}");
        }
        changed.map(|n| n == 1).map_err(|e| self.err(e))
    }

    /// Puts a key read back from the OS key store into the database.
    pub fn key_moved_to_database(&self, id: &str, key: Option<&Secret>) -> Result<()> {
        self.conn
            .execute(
                "UPDATE api_profiles SET api_key = ?2, key_in_keyring = 0 WHERE id = ?1",
                params![id, key.map(Secret::expose)],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Whether new and existing keys go to the OS key store (Settings > Providers).
    pub fn keys_in_keyring(&self) -> Result<bool> {
        Ok(self.setting(KEYRING_KEY)?.as_deref() == Some("on"))
    }

    pub fn set_keys_in_keyring(&self, on: bool) -> Result<()> {
        self.set_setting(KEYRING_KEY, if on { "on" } else { "off" })
    }

    pub fn main_profile_id(&self) -> Result<Option<String>> {
        self.setting(MAIN_PROFILE_KEY)
    }

    pub fn set_main_profile_id(&self, id: &str) -> Result<()> {
        self.set_setting(MAIN_PROFILE_KEY, id)
    }

    pub fn task_assignment(&self, task: Task) -> Result<TaskAssignment> {
        self.conn
            .query_row(
                "SELECT profile_id, model, temperature, max_tokens, reasoning
                 FROM task_assignments WHERE task = ?1",
                [task.as_str()],
                |r| {
                    Ok(TaskAssignment {
                        profile_id: r.get(0)?,
                        model: r.get(1)?,
                        temperature: r.get::<_, Option<f64>>(2)?.map(|t| t as f32),
                        max_tokens: r.get::<_, Option<u32>>(3)?,
                        reasoning: r
                            .get::<_, Option<String>>(4)?
                            .and_then(|s| Reasoning::parse(&s)),
                    })
                },
            )
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(|e| self.err(e))
    }

    pub fn set_task_assignment(&self, task: Task, a: &TaskAssignment) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO task_assignments (task, profile_id, model, temperature, max_tokens, reasoning)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (task) DO UPDATE SET profile_id = excluded.profile_id,
                     model = excluded.model, temperature = excluded.temperature,
                     max_tokens = excluded.max_tokens, reasoning = excluded.reasoning",
                params![
                    task.as_str(),
                    a.profile_id,
                    a.model.as_deref().filter(|m| !m.trim().is_empty()),
                    a.temperature.map(f64::from),
                    a.max_tokens,
                    a.reasoning.map(Reasoning::as_str)
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The model list fetched last for a profile, with when it was fetched.
    pub fn cached_models(&self, profile_id: &str) -> Result<Option<(i64, Vec<ModelInfo>)>> {
        let row: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT fetched_at, models FROM model_cache WHERE profile_id = ?1",
                [profile_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(row.map(|(at, text)| (at, models_from_json(&text))))
    }

    pub fn cache_models(&self, profile_id: &str, models: &[ModelInfo]) -> Result<()> {
        let list: Vec<Value> = models
            .iter()
            .map(|m| {
                json!({
                    "id": m.id,
                    "name": m.name,
                    "context_length": m.context_length,
                    "prompt_per_mtok": m.pricing.map(|p| p.prompt_per_mtok),
                    "completion_per_mtok": m.pricing.map(|p| p.completion_per_mtok),
                })
            })
            .collect();
        self.conn
            .execute(
                "INSERT INTO model_cache (profile_id, fetched_at, models) VALUES (?1, ?2, ?3)
                 ON CONFLICT (profile_id) DO UPDATE SET fetched_at = excluded.fetched_at,
                     models = excluded.models",
                params![profile_id, now_ms(), Value::Array(list).to_string()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

fn models_from_json(text: &str) -> Vec<ModelInfo> {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|m| {
            let price = |k: &str| m.get(k).and_then(Value::as_f64);
            Some(ModelInfo {
                id: m.get("id")?.as_str()?.to_owned(),
                name: m
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                context_length: m.get("context_length").and_then(Value::as_u64),
                pricing: match (price("prompt_per_mtok"), price("completion_per_mtok")) {
                    (Some(p), Some(c)) => Some(Pricing {
                        prompt_per_mtok: p,
                        completion_per_mtok: c,
                    }),
                    _ => None,
                },
            })
        })
        .collect()
}
