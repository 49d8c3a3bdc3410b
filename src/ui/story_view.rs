//! The story view: a virtualized column of entries. Only rows on screen are laid out; every other
//! row is placed by its measured (or, until seen, estimated) height.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use egui::{Color32, Galley, Key, KeyboardShortcut, Modifiers, Rect, TextStyle, UiBuilder, vec2};

use super::format::thousands;
use super::{EditState, ViewState};
use crate::domain::Target;
use crate::domain::{Entry, EntryId, EntryKind, EntryRow, StoryId, StoryMode};
use crate::state::EntrySource;
use crate::state::{Action, EntryAction, OpenStory, Streaming, WritingAction, WritingState};

const ROW_GAP: f32 = 6.0;
const ROW_MARGIN: i8 = 10;
const SAVE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter);

struct CachedGalley {
    content_hash: u64,
    galley: Arc<Galley>,
}

/// Row placement and text layout kept between frames.
#[derive(Default)]
pub struct StoryLayout {
    story: Option<StoryId>,
    version: u64,
    wrap_width: f32,
    font_px: f32,
    dark: bool,
    last_id: Option<EntryId>,
    heights: Vec<f32>,
    /// `prefix[i]` is the top of row i; one longer than `heights`.
    prefix: Vec<f32>,
    prefix_dirty: bool,
    measured: HashMap<EntryId, f32>,
    galleys: HashMap<EntryId, CachedGalley>,
    scroll_to_bottom: bool,
    /// Height of the narration being streamed under the last row, as last drawn.
    tail_height: f32,
}

/// What an estimate needs to know about the text metrics in use.
#[derive(Clone, Copy)]
struct Metrics {
    wrap_width: f32,
    font_px: f32,
    line_height: f32,
    header_height: f32,
}

impl Metrics {
    fn estimate(&self, row: &EntryRow) -> f32 {
        // Proportional fonts average about half an em per character in running prose.
        let chars_per_line = (self.wrap_width / (self.font_px * 0.5)).max(8.0);
        let lines = (row.char_count as f32 / chars_per_line).ceil().max(1.0);
        2.0 * f32::from(ROW_MARGIN) + self.header_height + lines * self.line_height + ROW_GAP
    }
}

impl StoryLayout {
    /// Brings placement up to date with the rows and the current width and font.
    fn sync(
        &mut self,
        story: &StoryId,
        rows: &[EntryRow],
        version: u64,
        metrics: Metrics,
        dark: bool,
    ) {
        let new_story = self.story.as_ref() != Some(story);
        let new_metrics = (self.wrap_width - metrics.wrap_width).abs() > 0.5
            || (self.font_px - metrics.font_px).abs() > 0.01
            || self.dark != dark;
        if new_story || new_metrics {
            self.measured.clear();
            self.galleys.clear();
            self.scroll_to_bottom |= new_story;
            self.story = Some(story.clone());
            self.wrap_width = metrics.wrap_width;
            self.font_px = metrics.font_px;
            self.dark = dark;
            self.rebuild(rows, metrics);
        } else if self.version != version {
            let appended_one = rows.len() == self.heights.len() + 1
                && rows.len() >= 2
                && self.last_id.as_ref() == Some(&rows[rows.len() - 2].id)
                || rows.len() == 1 && self.heights.is_empty();
            if appended_one {
                // The common case while writing: one new row at the end, no need to revisit the rest.
                let row = &rows[rows.len() - 1];
                let h = metrics.estimate(row);
                let top = self.prefix.last().copied().unwrap_or(0.0);
                self.heights.push(h);
                self.prefix.push(top + h);
                self.last_id = Some(row.id.clone());
            } else {
                self.rebuild(rows, metrics);
            }
        }
        self.version = version;
    }

    fn rebuild(&mut self, rows: &[EntryRow], metrics: Metrics) {
        self.heights.clear();
        self.heights.extend(rows.iter().map(|r| {
            self.measured
                .get(&r.id)
                .copied()
                .unwrap_or_else(|| metrics.estimate(r))
        }));
        self.last_id = rows.last().map(|r| r.id.clone());
        self.prefix_dirty = true;
        self.ensure_prefix();
    }

    fn ensure_prefix(&mut self) {
        if !self.prefix_dirty && self.prefix.len() == self.heights.len() + 1 {
            return;
        }
        self.prefix.clear();
        self.prefix.reserve(self.heights.len() + 1);
        let mut y = 0.0;
        self.prefix.push(y);
        for h in &self.heights {
            y += h;
            self.prefix.push(y);
        }
        self.prefix_dirty = false;
    }

    fn total_height(&self) -> f32 {
        self.prefix.last().copied().unwrap_or(0.0)
    }

    /// The row whose span contains `y` (clamped to the rows there are).
    fn row_at(&self, y: f32) -> usize {
        let upper = self.prefix.partition_point(|top| *top <= y);
        upper
            .saturating_sub(1)
            .min(self.heights.len().saturating_sub(1))
    }

    fn record_height(&mut self, index: usize, id: &EntryId, height: f32) {
        if let Some(h) = self.heights.get_mut(index)
            && (*h - height).abs() > 0.5
        {
            *h = height;
            self.prefix_dirty = true;
        }
        self.measured.insert(id.clone(), height);
    }

    /// Forgets what was measured for an entry whose text changed.
    pub fn invalidate(&mut self, id: &EntryId) {
        self.measured.remove(id);
        self.galleys.remove(id);
    }

    pub fn scroll_to_bottom(&mut self) {
        self.scroll_to_bottom = true;
    }

    fn galley(&mut self, ui: &egui::Ui, entry: &Entry, color: Color32) -> Arc<Galley> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        entry.content.hash(&mut hasher);
        let content_hash = hasher.finish();
        if let Some(cached) = self.galleys.get(&entry.id)
            && cached.content_hash == content_hash
        {
            return cached.galley.clone();
        }
        let font = TextStyle::Body.resolve(ui.style());
        let galley =
            ui.fonts_mut(|f| f.layout(entry.content.clone(), font, color, self.wrap_width));
        if self.galleys.len() > 2048 {
            self.galleys.clear();
        }
        self.galleys.insert(
            entry.id.clone(),
            CachedGalley {
                content_hash,
                galley: galley.clone(),
            },
        );
        galley
    }
}

/// What a row needs to know about the writing loop.
#[derive(Clone, Copy)]
struct RowContext<'a> {
    mode: StoryMode,
    /// Something is being written; regenerating is off until it ends.
    busy: bool,
    /// The entry being regenerated right now shows the new text as it streams.
    streaming: Option<&'a Streaming>,
    last_action: Option<&'a EntryId>,
}

pub fn story_ui(
    ui: &mut egui::Ui,
    open: &OpenStory,
    writing: &WritingState,
    view: &mut ViewState,
    entries: &mut dyn EntrySource,
    actions: &mut Vec<Action>,
) {
    let story = &open.summary.story;
    ui.horizontal_wrapped(|ui| {
        ui.heading(&story.title);
        ui.add_space(8.0);
        let mut facts = vec![story.mode.label(), story.pov.label(), story.tense.label()];
        if let Some(genre) = &story.genre {
            facts.push(genre);
        }
        ui.weak(facts.join(" · "));
        let plural = |n: u64, one: &str, many: &str| {
            format!("{} {}", thousands(n), if n == 1 { one } else { many })
        };
        ui.weak(format!(
            "· {} · {}",
            plural(open.summary.entry_count, "entry", "entries"),
            plural(open.summary.word_count, "word", "words")
        ));
    });
    // A row of its own: sharing the title's row, the buttons would cover long titles and facts.
    ui.horizontal(|ui| {
        if ui
            .selectable_label(false, "Export…")
            .on_hover_text("Save the story as an .avt file, Markdown or plain text")
            .clicked()
        {
            view.export = Some(super::sync::ExportDialog {
                story: story.id.clone(),
                format: crate::domain::FileFormat::Avt,
                path: writing
                    .export_dir
                    .join(format!("{}.avt", crate::domain::file_stem(&story.title)))
                    .display()
                    .to_string(),
                lore: false,
            });
        }
        for page in super::SidePanel::ALL {
            let on = view.side == Some(page);
            if ui
                .selectable_label(on, page.label())
                .on_hover_text(if on {
                    "Hide the panel"
                } else {
                    "Show the panel"
                })
                .clicked()
            {
                view.side = (!on).then_some(page);
                if !on && page == super::SidePanel::Inspector {
                    actions.push(Action::Writing(WritingAction::ShowInspector));
                }
            }
        }
    });
    ui.separator();

    let streaming = writing.streaming_for(&story.id);
    let tail = streaming.filter(|s| s.target == Target::Next);
    if entries.is_empty() && tail.is_none() {
        ui.add_space(40.0);
        ui.vertical_centered(|ui| {
            ui.label("This story has no entries yet.");
            ui.weak(match story.mode {
                StoryMode::Adventure => "Type what you do below and press Ctrl+Enter.",
                StoryMode::CreativeWriting => {
                    "Write an opening or a direction below and press Ctrl+Enter."
                }
            });
        });
        return;
    }

    let font_px = TextStyle::Body.resolve(ui.style()).size;
    let line_height = ui.text_style_height(&TextStyle::Body);
    let header_height = ui.text_style_height(&TextStyle::Small) + ui.spacing().item_spacing.y + 6.0;
    // Room for the scroll bar and the row's own margins.
    let row_width = (ui.available_width() - 18.0).max(120.0);
    let metrics = Metrics {
        wrap_width: row_width - 2.0 * f32::from(ROW_MARGIN),
        font_px,
        line_height,
        header_height,
    };
    let layout = &mut view.layout;
    layout.sync(
        &story.id,
        &open.rows,
        open.rows_version,
        metrics,
        ui.visuals().dark_mode,
    );
    layout.ensure_prefix();

    let last_action = open
        .rows
        .iter()
        .rev()
        .find(|r| r.kind == EntryKind::UserAction)
        .map(|r| &r.id);
    let context = RowContext {
        mode: story.mode,
        busy: writing.streaming.is_some(),
        streaming,
        last_action,
    };
    let mut scroll = egui::ScrollArea::vertical()
        .id_salt(("story-scroll", story.id.as_str()))
        .auto_shrink([false, false])
        .stick_to_bottom(true);
    if std::mem::take(&mut layout.scroll_to_bottom) {
        scroll = scroll.vertical_scroll_offset(layout.total_height() + layout.tail_height);
    }
    if tail.is_none() {
        layout.tail_height = 0.0;
    }
    let editing = &mut view.editing;
    scroll.show_viewport(ui, |ui, viewport| {
        ui.set_height(layout.total_height() + layout.tail_height);
        let origin = ui.max_rect().min;
        let mut index = layout.row_at(viewport.min.y);
        let mut y = layout.prefix.get(index).copied().unwrap_or(0.0);
        let mut changed = false;
        while index < entries.len() && y <= viewport.max.y {
            let Some(row) = entries.row(index).cloned() else {
                break;
            };
            let rect = Rect::from_min_size(
                origin + vec2(0.0, y),
                vec2(row_width, layout.heights[index]),
            );
            let height = row_ui(
                ui,
                rect,
                &row,
                context,
                entries.entry(index),
                layout,
                editing,
                actions,
            );
            if (height - layout.heights[index]).abs() > 0.5 {
                changed = true;
            }
            layout.record_height(index, &row.id, height);
            y += height;
            index += 1;
        }
        if let Some(streaming) = tail {
            let top = layout.total_height();
            if top <= viewport.max.y {
                let rect = Rect::from_min_size(
                    origin + vec2(0.0, top),
                    vec2(row_width, layout.tail_height.max(40.0)),
                );
                let height = streaming_row_ui(ui, rect, streaming);
                if (height - layout.tail_height).abs() > 0.5 {
                    layout.tail_height = height;
                    changed = true;
                }
            }
        }
        if changed {
            // Placement of later rows moved; settle it next frame instead of drawing overlaps.
            ui.ctx().request_repaint();
        }
    });
}

/// The narration arriving under the last entry.
fn streaming_row_ui(ui: &mut egui::Ui, rect: Rect, streaming: &Streaming) -> f32 {
    let mut child = ui.new_child(
        UiBuilder::new()
            .max_rect(rect)
            .id_salt("streaming-narration")
            .layout(egui::Layout::top_down(egui::Align::Min)),
    );
    egui::Frame::new()
        .inner_margin(egui::Margin::same(ROW_MARGIN))
        .corner_radius(6)
        .stroke(egui::Stroke::new(1.0, child.visuals().selection.bg_fill))
        .show(&mut child, |ui| {
            ui.set_width(ui.available_width());
            streaming_body_ui(ui, streaming);
        });
    child.min_rect().height() + ROW_GAP
}

fn streaming_body_ui(ui: &mut egui::Ui, streaming: &Streaming) {
    // No spinner: the arriving text shows progress, and an animation would repaint every frame.
    ui.horizontal(|ui| {
        ui.label(
            egui::RichText::new(match &streaming.model {
                Some(model) => format!("Writing with {}…", super::format::model_label(model)),
                None => "Preparing the prompt…".to_owned(),
            })
            .small()
            .strong(),
        );
    });
    if !streaming.reasoning.is_empty() {
        egui::CollapsingHeader::new(egui::RichText::new("Reasoning").small())
            .id_salt("streaming-reasoning")
            .show(ui, |ui| {
                ui.weak(streaming.reasoning.trim());
            });
    }
    let text = streaming.text.trim_start();
    if !text.is_empty() {
        ui.label(text);
    }
}

#[allow(clippy::too_many_arguments)]
fn row_ui(
    ui: &mut egui::Ui,
    rect: Rect,
    row: &EntryRow,
    context: RowContext<'_>,
    entry: Option<&Entry>,
    layout: &mut StoryLayout,
    editing: &mut Option<EditState>,
    actions: &mut Vec<Action>,
) -> f32 {
    let mut child = ui.new_child(
        UiBuilder::new()
            .max_rect(rect)
            .id_salt(("entry", row.id.as_str()))
            .layout(egui::Layout::top_down(egui::Align::Min)),
    );
    let fill = match row.kind {
        EntryKind::UserAction => child.visuals().faint_bg_color,
        _ => super::theme::NONE,
    };
    egui::Frame::new()
        .inner_margin(egui::Margin::same(ROW_MARGIN))
        .corner_radius(6)
        .fill(fill)
        .show(&mut child, |ui| {
            ui.set_width(ui.available_width());
            let mode = context.mode;
            let is_editing = editing.as_ref().is_some_and(|e| e.entry == row.id);
            let regenerating = context
                .streaming
                .filter(|s| s.target == Target::Regenerate(row.id.clone()));
            let header = ui
                .horizontal(|ui| {
                    let kind = row.kind.label(mode);
                    let label = ui.label(
                        egui::RichText::new(if is_editing {
                            format!("Editing {}", kind.to_lowercase())
                        } else {
                            kind.to_owned()
                        })
                        .small()
                        .strong()
                        .color(super::theme::entry_kind(row.kind, ui.visuals())),
                    );
                    if let (Some(entry), false) = (entry, is_editing) {
                        if let Some(pos) = entry.alternative {
                            alternatives_ui(ui, entry, pos, context.busy, actions);
                        }
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            if ui
                                .small_button("Delete")
                                .on_hover_text("Move this entry to the Trash")
                                .clicked()
                            {
                                actions
                                    .push(Action::Entry(EntryAction::TrashEntry(entry.id.clone())));
                            }
                            if ui
                                .small_button("Copy")
                                .on_hover_text("Copy the text")
                                .clicked()
                            {
                                ui.ctx().copy_text(entry.content.clone());
                            }
                            if ui
                                .small_button("Edit")
                                .on_hover_text("Edit this entry in place")
                                .clicked()
                            {
                                *editing = Some(EditState {
                                    entry: entry.id.clone(),
                                    text: entry.content.clone(),
                                    request_focus: true,
                                });
                            }
                            if row.kind == EntryKind::Narration
                                && ui
                                    .add_enabled(
                                        !context.busy,
                                        egui::Button::new("Regenerate").small(),
                                    )
                                    .on_hover_text(
                                        "Write this narration again from what came before it; \
                                         the current text stays as an alternative",
                                    )
                                    .clicked()
                            {
                                actions.push(Action::Writing(WritingAction::Regenerate(
                                    entry.id.clone(),
                                )));
                            }
                        });
                    }
                    label.id
                })
                .inner;
            let can_regenerate = context.last_action == Some(&row.id) && !context.busy;
            match (entry, editing.as_mut().filter(|e| e.entry == row.id)) {
                (_, Some(edit)) => {
                    if let Some(done) = edit_ui(ui, edit, header, can_regenerate) {
                        match done {
                            EditEnd::Save(text) => {
                                actions.push(Action::Entry(EntryAction::EditEntry {
                                    entry: row.id.clone(),
                                    text,
                                }))
                            }
                            EditEnd::SaveAndRegenerate(text) => {
                                actions.push(Action::Writing(WritingAction::EditAndRegenerate {
                                    entry: row.id.clone(),
                                    text,
                                }));
                            }
                            EditEnd::Cancel => {}
                        }
                        layout.invalidate(&row.id);
                        *editing = None;
                    }
                }
                (_, None) if regenerating.is_some() => {
                    if let Some(streaming) = regenerating {
                        streaming_body_ui(ui, streaming);
                    }
                }
                (Some(entry), None) => {
                    if !entry.reasoning.is_empty() {
                        egui::CollapsingHeader::new(egui::RichText::new("Reasoning").small())
                            .id_salt(("reasoning", entry.id.as_str()))
                            .show(ui, |ui| {
                                ui.weak(entry.reasoning.trim());
                            });
                    }
                    let galley = layout.galley(ui, entry, ui.visuals().text_color());
                    ui.add(egui::Label::new(galley));
                }
                (None, None) => {
                    ui.weak("…");
                }
            }
        });
    child.min_rect().height() + ROW_GAP
}

enum EditEnd {
    Save(String),
    SaveAndRegenerate(String),
    Cancel,
}

/// ‹ 2/3 ›: flips between the texts this narration has had; the one shown is what prompts see.
fn alternatives_ui(
    ui: &mut egui::Ui,
    entry: &Entry,
    pos: crate::domain::AlternativePosition,
    busy: bool,
    actions: &mut Vec<Action>,
) {
    let back = ui
        .add_enabled(!busy && pos.index > 1, egui::Button::new("‹").small())
        .on_hover_text("Previous version");
    if back.clicked() {
        actions.push(Action::Writing(WritingAction::SelectAlternative {
            entry: entry.id.clone(),
            index: pos.index - 1,
        }));
    }
    ui.small(format!("{}/{}", pos.index, pos.count));
    let next = ui
        .add_enabled(
            !busy && pos.index < pos.count,
            egui::Button::new("›").small(),
        )
        .on_hover_text("Next version");
    if next.clicked() {
        actions.push(Action::Writing(WritingAction::SelectAlternative {
            entry: entry.id.clone(),
            index: pos.index + 1,
        }));
    }
}

/// The in-place editor. Returns what ended the edit, or `None` to keep editing.
fn edit_ui(
    ui: &mut egui::Ui,
    edit: &mut EditState,
    label: egui::Id,
    can_regenerate: bool,
) -> Option<EditEnd> {
    let id = egui::Id::unique(("edit-entry", edit.entry.as_str()));
    let focused = ui.memory(|m| m.has_focus(id));
    if focused && ui.input_mut(|i| i.consume_shortcut(&SAVE)) {
        return Some(EditEnd::Save(edit.text.clone()));
    }
    let response = ui
        .add(
            egui::TextEdit::multiline(&mut edit.text)
                .id(id)
                .desired_width(f32::INFINITY)
                .desired_rows(3),
        )
        .labelled_by(label);
    if std::mem::take(&mut edit.request_focus) {
        response.request_focus();
    }
    // Esc leaves edit mode keeping what was typed: nothing written is ever thrown away by a key.
    if response.lost_focus() && ui.input(|i| i.key_pressed(Key::Escape)) {
        return Some(EditEnd::Save(edit.text.clone()));
    }
    let mut result = None;
    ui.horizontal(|ui| {
        if ui
            .button("Save")
            .on_hover_text("Save (Ctrl+Enter or Esc)")
            .clicked()
        {
            result = Some(EditEnd::Save(edit.text.clone()));
        }
        if can_regenerate
            && ui
                .button("Save and regenerate")
                .on_hover_text("Save the action and write its narration again")
                .clicked()
        {
            result = Some(EditEnd::SaveAndRegenerate(edit.text.clone()));
        }
        if ui
            .button("Cancel")
            .on_hover_text("Discard these changes")
            .clicked()
        {
            result = Some(EditEnd::Cancel);
        }
    });
    result
}
