//! Fabula: a native desktop app for interactive fiction and collaborative story writing.
//!
//! Reading order: `domain` (the story model, pure), `storage` (the only SQLite code),
//! `formats` (.avt exchange files, Markdown and text exports), `providers` (LLM wire protocols), `jobs` (worker threads and the Waker seam), `keys` (API keys in the OS key store), `sync` (LAN sync server and client), `transfer` (story files stored as they are read), `writing` (the
//! generation pipeline shared by window and CLI), `update` (self-update), `state` (what the UI reads and says: `AppState`,
//! `Action`, `EntrySource`), `app` (the controller that owns the store and applies `Action`s),
//! `ui` (egui drawing that reads `AppState` and pushes `Action`s), `cli` (headless subcommands), `diagnostics` (the redacting logger and the local error log).
//! See README.md, section "Architecture", for the invariants.
// No panics on input: unwrap, expect and panic are for tests (and proven invariants, each
// allowed where it stands, with its reason).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod app;
pub mod cli;
pub mod diagnostics;
pub mod domain;
pub mod formats;
pub mod jobs;
pub mod keys;
pub mod providers;
pub mod state;
pub mod storage;
pub mod sync;
pub mod transfer;
pub mod ui;
pub mod update;
pub mod writing;
