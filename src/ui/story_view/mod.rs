//! The story view: a virtualized column of entries. Only rows on screen are laid out; every other
//! row is placed by its measured (or, until seen, estimated) height.

use egui::{Rect, TextStyle, vec2};

use super::ViewState;
use super::format::thousands;
use crate::domain::Target;
use crate::domain::{EntryId, EntryKind, StoryMode};
use crate::state::EntrySource;
use crate::state::{Action, OpenStory, Streaming, WritingAction, WritingState};

mod editor;
mod find;
mod layout;
mod row;

use row::{row_ui, streaming_row_ui};

pub use find::FindBar;
pub use layout::StoryLayout;

use layout::Metrics;

/// Space between rows, and inside each row's frame.
const ROW_GAP: f32 = 6.0;
const ROW_MARGIN: i8 = 10;

/// What a row needs to know about the writing loop.
#[derive(Clone, Copy)]
struct RowContext<'a> {
    mode: StoryMode,
    /// Something is being written; regenerating is off until it ends.
    busy: bool,
    /// The entry being regenerated right now shows the new text as it streams.
    streaming: Option<&'a Streaming>,
    last_action: Option<&'a EntryId>,
    /// The story's chapters: a divider with its title goes above each one's first entry.
    chapters: &'a [crate::domain::chapter::Chapter],
}

pub fn story_ui(
    ui: &mut egui::Ui,
    open: &OpenStory,
    writing: &WritingState,
    view: &mut ViewState,
    entries: &mut dyn EntrySource,
    line_width: crate::domain::LineWidth,
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
        ui.weak(format!(
            "· {} · {}",
            super::format::count(open.summary.entry_count, "entry", "entries"),
            super::format::count(open.summary.word_count, "word", "words")
        ));
        if let Some(id) = &writing.branch {
            let name = writing
                .branches
                .iter()
                .find(|b| &b.id == id)
                .map_or("a branch", |b| b.name.as_str());
            ui.label(egui::RichText::new(format!("Branch: {name}")).strong())
                .on_hover_text("The story shows this branch (Branches panel to switch)");
        }
    });
    // A row of its own: sharing the title's row, the buttons would cover long titles and facts.
    // It wraps in a narrow window rather than running off its edge.
    ui.horizontal_wrapped(|ui| {
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
        ui.add_enabled_ui(open.rows_from.is_none(), |ui| {
            go_to_entry_ui(ui, view, open.rows.len());
        })
        .response
        .on_disabled_hover_text("Reading the story's index…");
        if ui
            .selectable_label(view.find_bar.is_some(), "Find")
            .on_hover_text("Find text in this story (Ctrl+F)")
            .clicked()
        {
            view.find_bar = match view.find_bar.take() {
                Some(_) => {
                    actions.push(Action::Library(crate::state::LibraryAction::FindInStory(
                        String::new(),
                    )));
                    None
                }
                None => Some(FindBar::open_with("")),
            };
        }
    });
    if let Some((story_id, entry, query)) = view.jump.take() {
        if story_id == story.id {
            let found = open.rows.index_of(&entry);
            if let Some(index) = found {
                // Scrolled to once the rows are placed, below.
                view.pending_top = Some((story.id.clone(), index));
            }
            if found.is_none() && open.rows_from.is_some() {
                // Above the rows held so far: once the rest of the index is in.
                view.jump = Some((story_id, entry, query));
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_millis(50));
            } else {
                let mut bar = FindBar::open_with(&query);
                bar.from_entry = Some(entry);
                view.find_bar = Some(bar);
            }
        } else {
            view.jump = Some((story_id, entry, query));
        }
    }
    find::find_bar_ui(ui, view, &writing.find, &open.rows, actions);
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
    // Room for the scroll bar and the row's own margins; past the line width the rows are centred.
    let room = (ui.available_width() - 18.0).max(120.0);
    let row_width = line_width
        .max_points(font_px)
        .map_or(room, |max| room.min(max + 2.0 * f32::from(ROW_MARGIN)));
    let indent = ((room - row_width) / 2.0).max(0.0);
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
    if let Some((story_id, top)) = view.pending_top.take()
        && story_id == story.id
    {
        layout.start_at_entry(top);
    }

    let last_action = open.rows.last_of_kind(EntryKind::UserAction);
    let context = RowContext {
        mode: story.mode,
        busy: writing.streaming.is_some(),
        streaming,
        last_action: last_action.as_ref(),
        chapters: &writing.chapters,
    };
    travel_keys(ui, layout, line_height, view.editing.is_some());
    if layout.scroll_to.is_some()
        || ui.input(|i| i.smooth_scroll_delta.y != 0.0 || i.pointer.any_down())
    {
        layout.untouched = false;
    }
    let to_bottom = std::mem::take(&mut layout.scroll_to_bottom);
    let moved_to = layout.scroll_to.take();
    // A story taller than the scroll area can hold exactly is scrolled in story points here and
    // shown to the scroll area scaled down (see `story_top`).
    let full = layout.total_exact() + f64::from(layout.tail_height);
    let view_height = f64::from(layout.viewport_height.max(1.0));
    let scaled = full > SCROLL_LIMIT;
    let content_height = if scaled { SCROLL_LIMIT } else { full };
    let ratio = (content_height - view_height).max(1.0) / (full - view_height).max(1.0);
    let story_end = (full - view_height).max(0.0);
    let mut scroll = egui::ScrollArea::vertical()
        .id_salt(("story-scroll", story.id.as_str()))
        .auto_shrink([false, false])
        .scroll_bar_visibility(egui::scroll_area::ScrollBarVisibility::AlwaysVisible)
        // A story followed at its end would pull a jump away from the end straight back.
        .stick_to_bottom(moved_to.is_none() && !scaled);
    if scaled {
        let following = moved_to.is_none() && layout.story_top >= layout.followed_end - 1.0;
        let top = if to_bottom || following {
            story_end
        } else {
            moved_to.map_or(layout.story_top, f64::from)
        };
        layout.story_top = top.clamp(0.0, story_end);
        layout.offset_given = (layout.story_top * ratio) as f32;
        scroll = scroll.vertical_scroll_offset(layout.offset_given);
        // The scroll area's own animations (a widget brought into view, a fling) would pull the
        // scaled offset away frame after frame; here the place is kept in story points, so
        // between the reader's own moves the area starts afresh from it.
        let reader_moving = ui.input(|i| i.pointer.any_down() || i.smooth_scroll_delta.y != 0.0);
        if let Some(id) = layout.scroll_id
            && !reader_moving
            && std::mem::take(&mut layout.scroll_drifted)
        {
            egui::scroll_area::State::default().store(ui.ctx(), id);
        }
    } else if to_bottom {
        scroll = scroll.vertical_scroll_offset(layout.total_height() + layout.tail_height);
    } else if let Some(offset) = moved_to {
        scroll = scroll.vertical_scroll_offset(offset.max(0.0));
    }
    // However long the story, the thumb stays big enough to see and to grab.
    ui.spacing_mut().scroll.handle_min_length = 48.0;
    ui.spacing_mut().scroll.bar_width = ui.spacing().scroll.bar_width.max(10.0);
    if tail.is_none() {
        layout.tail_height = 0.0;
    }
    let editing = &mut view.editing;
    let shown = scroll.show_viewport(ui, |ui, viewport| {
        ui.set_height(content_height as f32);
        // Rows are placed from the top of what is shown, not from the content's origin: deep
        // in a long story that origin is ~10^8 points away, where an f32 sum is off by several.
        let view_top = ui.clip_rect().min.y;
        let shown_top = if scaled {
            layout.story_top
        } else {
            f64::from(viewport.min.y)
        };
        let shown_bottom = shown_top + f64::from(viewport.height());
        let on_screen = |content_y: f64| view_top + (content_y - shown_top) as f32;
        let left = ui.max_rect().min.x + indent;
        let mut index = layout.row_at_exact(shown_top);
        let mut y = layout.top_exact(index);
        let mut changed = false;
        while index < entries.len() && y <= shown_bottom {
            let Some(row) = entries.row(index) else {
                break;
            };
            let rect = Rect::from_min_size(
                egui::pos2(left, on_screen(y)),
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
            y += f64::from(height);
            index += 1;
        }
        if let Some(streaming) = tail
            && layout.total_exact() <= shown_bottom
        {
            let rect = Rect::from_min_size(
                egui::pos2(left, on_screen(layout.top_exact(usize::MAX))),
                vec2(row_width, layout.tail_height.max(40.0)),
            );
            let height = streaming_row_ui(ui, rect, streaming);
            if (height - layout.tail_height).abs() > 0.5 {
                layout.tail_height = height;
                changed = true;
            }
        }
        if changed {
            // Placement of later rows moved; settle it next frame instead of drawing overlaps.
            ui.ctx().request_repaint();
        }
        changed
    });
    layout.scroll_id = Some(shown.id);
    let offset = shown.state.clamped_offset().y;
    let content_before = std::mem::replace(&mut layout.content_given, content_height);
    if scaled {
        // What the wheel, the keys or the bar did this frame, back in story points: a step is
        // taken as it is, a jump of the bar as the place it points to.
        // The frame the scroll area grows, it still clamps to the height it had: nothing moved.
        let regrown = (content_height - content_before).abs() > 0.5;
        let reader_moving = ui.input(|i| i.pointer.any_down() || i.smooth_scroll_delta.y != 0.0);
        let moved = match regrown {
            true => 0.0,
            false => f64::from(offset - layout.offset_given),
        };
        // Moved with no hand on it: the area's own animation, undone next frame.
        let moved = match reader_moving || moved == 0.0 {
            true => moved,
            false => {
                layout.scroll_drifted = true;
                0.0
            }
        };
        if moved.abs() > view_height * 1.5 {
            layout.story_top = f64::from(offset) / ratio;
        } else {
            layout.story_top += moved;
        }
        layout.story_top = layout.story_top.clamp(0.0, story_end);
        layout.followed_end = story_end;
        if moved != 0.0 {
            ui.ctx().request_repaint();
        }
        layout.scrolled = layout.story_top as f32;
        if regrown {
            ui.ctx().request_repaint();
        }
    } else {
        layout.story_top = f64::from(offset);
        layout.followed_end = story_end;
        layout.scrolled = offset;
    }
    if layout.hold_anchor(shown.inner) {
        ui.ctx().request_repaint();
    }
    layout.viewport_height = shown.inner_rect.height();
    if layout.is_scrolled_up() {
        let at = shown.inner_rect.right_bottom() + vec2(-150.0, -44.0);
        egui::Area::new(ui.scope_id().with("jump-to-latest"))
            .fixed_pos(at)
            .order(egui::Order::Foreground)
            .show(ui.ctx(), |ui| {
                if ui
                    .button("Jump to latest")
                    .on_hover_text("Scroll to the end of the story (Ctrl+End)")
                    .clicked()
                {
                    layout.scroll_to_bottom();
                }
            });
    }
}

/// "Go to entry N": Enter scrolls entry N to the top; a number out of range says so on hover.
fn go_to_entry_ui(ui: &mut egui::Ui, view: &mut ViewState, count: usize) {
    ui.add_space(12.0);
    let label = ui.label("Go to entry");
    let field = ui
        .add(
            egui::TextEdit::singleline(&mut view.go_to)
                .desired_width(96.0)
                .hint_text(format!("1–{}", thousands(count as u64))),
        )
        .labelled_by(label.id);
    if field.changed() {
        view.go_to_error = None;
    }
    if let Some(error) = &view.go_to_error {
        ui.colored_label(ui.visuals().error_fg_color, error);
    }
    let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    if !entered {
        return;
    }
    let typed = view.go_to.trim().replace([',', ' ', '\u{a0}'], "");
    match typed.parse::<usize>() {
        Ok(n) if (1..=count).contains(&n) => {
            view.layout.scroll_to_entry(n - 1);
            view.go_to.clear();
            view.go_to_error = None;
        }
        _ => {
            view.go_to_error = Some(format!(
                "“{}” is not an entry: there are entries 1 to {}.",
                view.go_to.trim(),
                thousands(count as u64)
            ));
        }
    }
}

/// PageUp / PageDown move through the story also while typing in the composer (a text field has
/// no use for them); Home / End (with or without Ctrl) and the arrows do while no text field has
/// the keyboard. An entry being edited in place keeps them all.
/// The tallest scroll area handed to egui, in points: beyond it f32 offsets lose whole points.
const SCROLL_LIMIT: f64 = 4_000_000.0;

fn travel_keys(ui: &egui::Ui, layout: &mut StoryLayout, line_height: f32, editing: bool) {
    if editing {
        return;
    }
    let typing = ui.ctx().egui_wants_keyboard_input();
    let page = (layout.viewport_height - 2.0 * line_height).max(line_height);
    let from = layout.scrolled;
    let target = ui.input_mut(|i| {
        use egui::{Key, Modifiers};
        if i.consume_key(Modifiers::NONE, Key::PageDown) {
            return Some(from + page);
        }
        if i.consume_key(Modifiers::NONE, Key::PageUp) {
            return Some(from - page);
        }
        if typing {
            return None;
        }
        let mut pressed =
            |key| i.consume_key(Modifiers::NONE, key) || i.consume_key(Modifiers::COMMAND, key);
        if pressed(Key::Home) {
            Some(0.0)
        } else if pressed(Key::End) {
            Some(f32::INFINITY)
        } else if i.consume_key(Modifiers::NONE, Key::ArrowDown) {
            Some(from + 3.0 * line_height)
        } else if i.consume_key(Modifiers::NONE, Key::ArrowUp) {
            Some(from - 3.0 * line_height)
        } else {
            None
        }
    });
    match target {
        Some(f32::INFINITY) => layout.scroll_to_bottom(),
        Some(offset) => layout.scroll_to = Some(offset.max(0.0)),
        None => {}
    }
}
