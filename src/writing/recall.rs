//! Recall: before a narration, what the story's past chapters hold that the coming narration
//! needs, beyond their summaries. Two ways, as the story's memory settings say: questions (the
//! Memory task asks up to N questions, each answered from the full text of the chapter it names,
//! read in a bounded slice) or an agent (a tool run that lists, reads and searches the chapters
//! and finishes with a context block). Every call is in the usage ledger and the inspector;
//! whatever goes wrong, the narration goes on without it.

use std::time::Duration;

use super::WritingError;
use super::task::TaskCall;
use crate::domain::chapter::{Chapter, RecallMode};
use crate::domain::search::{MARK_END, MARK_START, SearchQuery};
use crate::domain::{HistoryItem, StoryId, Target, Task};
use crate::jobs::CancelToken;
use crate::keys::KeyStore;
use crate::providers::tools::{Limits, RunEnd, ToolCall, ToolReply, ToolSpec, Toolbox};
use crate::storage::Store;

/// The newest text recall is about (tokens).
const NOW_READ: usize = 1_500;
/// How much of a chapter one answer (or one `read_chapter` part) reads (tokens).
const CHAPTER_READ: usize = 6_000;
const AGENT_LIMITS: Limits = Limits {
    steps: 8,
    time: Duration::from_secs(120),
};

/// What recall found, as the narrator is told it.
#[derive(Clone, Debug, PartialEq)]
pub struct Recalled {
    pub text: String,
    pub mode: RecallMode,
    /// Model calls it took.
    pub calls: u32,
}

const QUESTIONS_INSTRUCTION: &str = "You help the narrator of a long story remember. Below are the summaries of the story's past chapters and the newest part of the story. Ask the questions whose answers, found in the full text of a past chapter, the next narration needs: names, promises, clues, details the summaries leave out. Name the chapter each question is about by its number. Ask none when the summaries are enough.";

const ANSWER_INSTRUCTION: &str = "Answer the QUESTION from the CHAPTER text only, in one to three sentences. If the text does not say, answer exactly: Not told.";

const AGENT_INSTRUCTION: &str = "You help the narrator of a long story remember. Find in the story's past chapters what the next narration needs to know (names, promises, clues, details the summaries leave out). Use the tools to list the chapters, read one, or search every entry; then call finish with a short context block of the facts found, each with the chapter it comes from. Call finish with an empty context when nothing is needed.";

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct Question {
    /// The number of the chapter the question is about.
    chapter: u32,
    question: String,
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct Questions {
    questions: Vec<Question>,
}

fn newest_text(items: &[HistoryItem]) -> String {
    items
        .iter()
        .map(|h| h.text.trim())
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn summaries(chapters: &[Chapter]) -> String {
    chapters
        .iter()
        .map(Chapter::prompt_text)
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Recalls for the narration of `target`, when the story's settings ask for it and it has
/// chapters. `progress` hears (calls made, calls at most) as the work goes.
pub fn recall(
    store: &Store,
    keys: &dyn KeyStore,
    story: &StoryId,
    target: &Target,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(u32, u32),
) -> Result<Option<Recalled>, WritingError> {
    let settings = store.memory_settings(story)?;
    if !settings.recall {
        return Ok(None);
    }
    let chapters = store.chapters(story)?;
    if chapters.is_empty() {
        return Ok(None);
    }
    let now = newest_text(&store.history_within(story, target.entry(), NOW_READ)?);
    let task = TaskCall::resolve(store, keys, Task::Memory, story, cancel)?;
    let most = settings.chapters_per_recall.clamp(1, 20);
    match settings.recall_mode {
        RecallMode::Questions => questions(&task, &chapters, &now, most, cancel, progress),
        RecallMode::Agent => agent(&task, &chapters, &now, cancel, progress),
    }
}

fn questions(
    task: &TaskCall<'_>,
    chapters: &[Chapter],
    now: &str,
    most: u32,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(u32, u32),
) -> Result<Option<Recalled>, WritingError> {
    let request = task.request(
        QUESTIONS_INSTRUCTION,
        format!(
            "Ask at most {most} questions.\n\nPAST CHAPTERS:\n{}\n\nNEWEST PART OF THE STORY:\n{now}",
            summaries(chapters)
        ),
        0.3,
        600,
    );
    progress(0, most + 1);
    let Some(asked) =
        task.shaped::<Questions>(&request, "recall_questions", cancel, &|detail| {
            format!("The recall questions could not be read ({detail}).")
        })?
    else {
        return Ok(None);
    };
    // A chapter number that does not exist is a question with nothing to answer it from.
    let asked: Vec<(Question, &Chapter)> = asked
        .questions
        .into_iter()
        .filter(|q| !q.question.trim().is_empty())
        .filter_map(|q| {
            let chapter = chapters.iter().find(|c| c.number == i64::from(q.chapter))?;
            Some((q, chapter))
        })
        .take(usize::try_from(most).unwrap_or(usize::MAX))
        .collect();
    let total = u32::try_from(asked.len()).unwrap_or(u32::MAX) + 1;
    progress(1, total);
    let mut found = Vec::new();
    for (n, (q, chapter)) in asked.iter().enumerate() {
        if cancel.is_cancelled() {
            return Ok(None);
        }
        let text = newest_text(
            &task
                .store
                .chapter_entries(task.story, chapter, CHAPTER_READ)?,
        );
        let request = task.request(
            ANSWER_INSTRUCTION,
            format!(
                "QUESTION: {}\n\nCHAPTER ({}):\n{text}",
                q.question.trim(),
                chapter.heading()
            ),
            0.2,
            200,
        );
        let Some(answer) = task.text(&request, cancel)? else {
            return Ok(None);
        };
        progress(u32::try_from(n).unwrap_or(u32::MAX) + 2, total);
        let answer = answer.trim();
        if answer.is_empty()
            || answer
                .trim_end_matches('.')
                .eq_ignore_ascii_case("not told")
        {
            continue;
        }
        found.push(format!(
            "Q ({}): {}\nA: {answer}",
            chapter.heading(),
            q.question.trim()
        ));
    }
    Ok((!found.is_empty()).then(|| Recalled {
        text: found.join("\n"),
        mode: RecallMode::Questions,
        calls: total,
    }))
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct NoArguments {}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct ReadChapter {
    /// The chapter's number.
    number: u32,
    /// Which part of a long chapter to read, from 1 (the first part when left out).
    part: Option<u32>,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct SearchEntries {
    /// Words to find in every entry of the story (all of them, any case).
    query: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct FinishRecall {
    /// The facts found, each with the chapter it comes from; empty when nothing is needed.
    context: String,
}

/// The recall agent's tools, reading the store it is given.
struct RecallTools<'a> {
    store: &'a Store,
    story: &'a StoryId,
    chapters: &'a [Chapter],
}

impl RecallTools<'_> {
    fn read(&self, number: u32, part: u32) -> Result<String, String> {
        let chapter = self
            .chapters
            .iter()
            .find(|c| c.number == i64::from(number))
            .ok_or_else(|| {
                format!(
                    "There is no chapter {number}; they are numbered 1 to {}.",
                    self.chapters.len()
                )
            })?;
        // Parts are read in turn from the chapter's start: each is the next slice of entries.
        let entries = self
            .store
            .chapter_entries(self.story, chapter, usize::MAX)
            .map_err(|e| e.to_string())?;
        let mut parts: Vec<Vec<&HistoryItem>> = vec![Vec::new()];
        let mut spent = 0usize;
        for e in &entries {
            if spent + e.tokens > CHAPTER_READ && parts.last().is_some_and(|p| !p.is_empty()) {
                parts.push(Vec::new());
                spent = 0;
            }
            spent += e.tokens;
            if let Some(last) = parts.last_mut() {
                last.push(e);
            }
        }
        let count = parts.len();
        let index = usize::try_from(part.max(1)).unwrap_or(1) - 1;
        let slice = parts.get(index).ok_or_else(|| {
            format!(
                "{} has {count} parts; ask for 1 to {count}.",
                chapter.heading()
            )
        })?;
        let text = slice
            .iter()
            .map(|e| e.text.trim())
            .collect::<Vec<_>>()
            .join("\n\n");
        Ok(format!(
            "{} (part {} of {count}):\n{text}",
            chapter.heading(),
            index + 1
        ))
    }

    fn search(&self, query: &str) -> Result<String, String> {
        let query = SearchQuery::parse(query);
        if query.is_empty() {
            return Err("Give at least one word to search for.".into());
        }
        let hits = self
            .store
            .search_entries(&query, Some(self.story), 8)
            .map_err(|e| e.to_string())?;
        if hits.is_empty() {
            return Ok("Nothing found.".into());
        }
        Ok(hits
            .iter()
            .map(|h| {
                format!(
                    "- entry {}: {}",
                    h.position + 1,
                    h.snippet.replace([MARK_START, MARK_END], "")
                )
            })
            .collect::<Vec<_>>()
            .join("\n"))
    }
}

impl Toolbox for RecallTools<'_> {
    fn specs(&self) -> Vec<ToolSpec> {
        vec![
            ToolSpec::of::<NoArguments>(
                "list_chapters",
                "The story's chapters: number, title, keywords, characters and places.",
            ),
            ToolSpec::of::<ReadChapter>(
                "read_chapter",
                "The full text of one chapter, a part at a time.",
            ),
            ToolSpec::of::<SearchEntries>(
                "search_entries",
                "Finds words in every entry of the story, newest first.",
            ),
            ToolSpec::of::<FinishRecall>("finish", "Ends the recall with the facts found."),
        ]
    }

    fn run(&mut self, call: &ToolCall) -> ToolReply {
        let reply = match call.name.as_str() {
            "list_chapters" => call.read::<NoArguments>().map(|_| {
                self.chapters
                    .iter()
                    .map(|c| {
                        format!(
                            "{} — keywords: {}; characters: {}; places: {}",
                            c.heading(),
                            c.keywords.join(", "),
                            c.characters.join(", "),
                            c.places.join(", ")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }),
            "read_chapter" => call
                .read::<ReadChapter>()
                .and_then(|a| self.read(a.number, a.part.unwrap_or(1))),
            "search_entries" => call
                .read::<SearchEntries>()
                .and_then(|a| self.search(&a.query)),
            _ => {
                return match call.read::<FinishRecall>() {
                    Ok(a) => ToolReply::Finish(a.context),
                    Err(e) => ToolReply::Error(e),
                };
            }
        };
        match reply {
            Ok(text) => ToolReply::Ok(text),
            Err(e) => ToolReply::Error(e),
        }
    }
}

fn agent(
    task: &TaskCall<'_>,
    chapters: &[Chapter],
    now: &str,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(u32, u32),
) -> Result<Option<Recalled>, WritingError> {
    let request = task.request(
        AGENT_INSTRUCTION,
        format!(
            "CHAPTER SUMMARIES:\n{}\n\nNEWEST PART OF THE STORY:\n{now}",
            summaries(chapters)
        ),
        0.3,
        800,
    );
    let mut tools = RecallTools {
        store: task.store,
        story: task.story,
        chapters,
    };
    let run = task.tools(&request, &mut tools, AGENT_LIMITS, cancel, progress)?;
    let text = run.text.trim();
    Ok(match run.end {
        RunEnd::Stopped => None,
        _ if text.is_empty() => None,
        _ => Some(Recalled {
            text: text.to_owned(),
            mode: RecallMode::Agent,
            calls: run.steps,
        }),
    })
}
