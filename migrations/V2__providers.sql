-- API profiles, per-task model assignments, cached model lists and the usage ledger.

CREATE TABLE api_profiles (
    id               TEXT PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL UNIQUE COLLATE NOCASE,
    preset           TEXT NOT NULL,
    -- Empty means the preset's own address.
    base_url         TEXT NOT NULL DEFAULT '',
    api_key          TEXT,
    default_model    TEXT NOT NULL DEFAULT '',
    -- JSON arrays of model ids.
    custom_models    TEXT NOT NULL DEFAULT '[]',
    favourite_models TEXT NOT NULL DEFAULT '[]',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

-- Keyed by profile id without a foreign key: environment profiles ("env:openai") are cached too.
CREATE TABLE model_cache (
    profile_id TEXT PRIMARY KEY NOT NULL,
    fetched_at INTEGER NOT NULL,
    models     TEXT NOT NULL
);

-- NULL fields fall back to the main profile and its default model.
CREATE TABLE task_assignments (
    task        TEXT PRIMARY KEY NOT NULL,
    profile_id  TEXT,
    model       TEXT,
    temperature REAL,
    max_tokens  INTEGER,
    reasoning   TEXT CHECK (reasoning IN ('off', 'low', 'medium', 'high'))
);

CREATE TABLE usage_log (
    id                INTEGER PRIMARY KEY,
    at                INTEGER NOT NULL,
    provider          TEXT NOT NULL,
    profile_id        TEXT,
    model             TEXT NOT NULL,
    task              TEXT NOT NULL,
    story_id          TEXT,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    reasoning_tokens  INTEGER,
    first_token_ms    INTEGER,
    total_ms          INTEGER NOT NULL,
    cost_micro_usd    INTEGER,
    outcome           TEXT NOT NULL CHECK (outcome IN ('ok', 'cancelled', 'failed')),
    error             TEXT
);

CREATE INDEX usage_log_by_at ON usage_log (at);
