//! Where each row of a story goes without laying out its text: estimated heights, replaced by
//! measured ones as rows are drawn, summed into a prefix array so finding the rows on screen is a
//! binary search whatever the story's length. Laid-out text is cached by content.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use egui::{Color32, Galley, TextStyle};

use super::{ROW_GAP, ROW_MARGIN};
use crate::domain::{Entry, EntryId, RowIndex, RowKey, StoryId};

struct CachedGalley {
    content_hash: u64,
    galley: Arc<Galley>,
}

/// Rows to a chunk of `StoryLayout::prefix`.
const CHUNK: usize = 64;

/// Row placement and text layout kept between frames.
#[derive(Default)]
pub struct StoryLayout {
    story: Option<StoryId>,
    version: u64,
    wrap_width: f32,
    font_px: f32,
    dark: bool,
    last_key: Option<RowKey>,
    first_key: Option<RowKey>,
    pub(super) heights: Vec<f32>,
    /// `prefix[c]` is the top of row `c * CHUNK`, and its last the bottom of the last row: a
    /// row's top is its chunk's plus the heights before it there. In f64: a million rows are
    /// about 10^8 points tall, where an f32 is only good to 8 of them.
    pub(super) prefix: Vec<f64>,
    prefix_dirty: bool,
    measured: HashMap<RowKey, f32>,
    galleys: HashMap<EntryId, CachedGalley>,
    pub(super) scroll_to_bottom: bool,
    /// Height of the narration being streamed under the last row, as last drawn.
    pub(super) tail_height: f32,
    /// Where the story was scrolled to, and how tall its window was, as last drawn: what a key
    /// press moves from.
    pub(super) scrolled: f32,
    pub(super) viewport_height: f32,
    /// A place to scroll to on the next frame (a key press, "go to entry").
    pub(super) scroll_to: Option<f32>,
    /// An entry to keep at the top while the rows above it are measured (their estimated heights
    /// give way to real ones), and for how many frames it has been held.
    anchor: Option<(usize, u8)>,
    /// Past `SCROLL_LIMIT` points the scroll area is shorter than the story (an f32 offset
    /// deep in 10^8 points is good only to 8): where the reader is, in story points, and the
    /// offset the scroll area was given for it this frame.
    pub(super) story_top: f64,
    pub(super) offset_given: f32,
    /// The last story point the reader could scroll to, as last drawn (following the end).
    pub(super) followed_end: f64,
    /// Opened at its end and not scrolled by the reader since: where the rest of a long story's
    /// index arriving leaves them (at the end still).
    pub(super) untouched: bool,
    /// The scaled scroll area moved on its own last frame (see `story_top`).
    pub(super) scroll_drifted: bool,
    /// The story's scroll area, as last shown.
    pub(super) scroll_id: Option<egui::Id>,
    /// The height the scroll area was given last frame.
    pub(super) content_given: f64,
    /// What Find looks for, marked in the text wherever it occurs.
    pub(super) highlight: Option<crate::domain::search::SearchQuery>,
}

/// What an estimate needs to know about the text metrics in use.
#[derive(Clone, Copy)]
pub(super) struct Metrics {
    pub(super) wrap_width: f32,
    pub(super) font_px: f32,
    pub(super) line_height: f32,
    pub(super) header_height: f32,
}

impl Metrics {
    pub(super) fn estimate(&self, char_count: u32) -> f32 {
        // Proportional fonts average about half an em per character in running prose.
        let chars_per_line = (self.wrap_width / (self.font_px * 0.5)).max(8.0);
        let lines = (char_count as f32 / chars_per_line).ceil().max(1.0);
        2.0 * f32::from(ROW_MARGIN) + self.header_height + lines * self.line_height + ROW_GAP
    }
}

impl StoryLayout {
    /// Brings placement up to date with the rows and the current width and font.
    pub(super) fn sync(
        &mut self,
        story: &StoryId,
        rows: &RowIndex,
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
            self.untouched |= new_story;
            self.story = Some(story.clone());
            self.wrap_width = metrics.wrap_width;
            self.font_px = metrics.font_px;
            self.dark = dark;
            self.rebuild(rows, metrics);
        } else if self.version != version {
            let n = rows.len();
            let appended_one = n == self.heights.len() + 1
                && n >= 2
                && self.last_key.is_some()
                && rows.key(n - 2) == self.last_key
                || n == 1 && self.heights.is_empty();
            let prepended = (!appended_one)
                .then_some(self.first_key)
                .flatten()
                .filter(|_| n > 0 && rows.key(n - 1) == self.last_key)
                .and_then(|first| (0..n).find(|i| rows.key(*i) == Some(first)))
                .filter(|k| *k > 0);
            if appended_one {
                // The common case while writing: one new row at the end, no need to revisit the rest.
                let h = metrics.estimate(rows.chars(n - 1).unwrap_or(0));
                self.ensure_prefix();
                self.heights.push(h);
                let bottom = self.prefix.last().copied().unwrap_or(0.0) + f64::from(h);
                if (self.heights.len() - 1).is_multiple_of(CHUNK) {
                    self.prefix.push(bottom);
                } else if let Some(last) = self.prefix.last_mut() {
                    *last = bottom;
                }
                self.last_key = rows.key(n - 1);
            } else {
                let at_end = self.untouched || !self.is_scrolled_up();
                self.rebuild(rows, metrics);
                // The rest of a long story's index arrived above the rows shown: the reader
                // stays on the same text (at the end, if that is where they were).
                if let Some(k) = prepended {
                    if at_end {
                        self.scroll_to_bottom = true;
                    } else {
                        let above = self.top(k);
                        self.scroll_to = Some(self.scrolled + above);
                        self.anchor = self.anchor.map(|(index, frames)| (index + k, frames));
                    }
                }
            }
        }
        self.first_key = rows.key(0);
        self.version = version;
    }

    pub(super) fn rebuild(&mut self, rows: &RowIndex, metrics: Metrics) {
        self.heights.clear();
        self.heights.reserve(rows.len());
        for i in 0..rows.len() {
            let measured = match self.measured.is_empty() {
                true => None,
                false => rows.key(i).and_then(|k| self.measured.get(&k).copied()),
            };
            let h = measured.unwrap_or_else(|| metrics.estimate(rows.chars(i).unwrap_or(0)));
            self.heights.push(h);
        }
        self.last_key = rows.len().checked_sub(1).and_then(|i| rows.key(i));
        self.prefix_dirty = true;
        self.ensure_prefix();
    }

    pub(super) fn ensure_prefix(&mut self) {
        let chunks = self.heights.len().div_ceil(CHUNK);
        if !self.prefix_dirty && self.prefix.len() == chunks + 1 {
            return;
        }
        self.prefix.clear();
        self.prefix.reserve(chunks + 1);
        let mut y = 0.0;
        for chunk in self.heights.chunks(CHUNK) {
            self.prefix.push(y);
            y += chunk.iter().map(|h| f64::from(*h)).sum::<f64>();
        }
        self.prefix.push(y);
        self.prefix_dirty = false;
    }

    pub(super) fn total_height(&self) -> f32 {
        self.prefix.last().copied().unwrap_or(0.0) as f32
    }

    /// The top of row `index` (the end, past the last).
    pub(super) fn top(&self, index: usize) -> f32 {
        self.top_exact(index) as f32
    }

    pub(super) fn total_exact(&self) -> f64 {
        self.prefix.last().copied().unwrap_or(0.0)
    }

    pub(super) fn top_exact(&self, index: usize) -> f64 {
        if index >= self.heights.len() {
            return self.total_exact();
        }
        let chunk = index / CHUNK;
        let start = self.prefix.get(chunk).copied().unwrap_or(0.0);
        start
            + self.heights[chunk * CHUNK..index]
                .iter()
                .map(|h| f64::from(*h))
                .sum::<f64>()
    }

    /// The row whose span contains `y` (clamped to the rows there are).
    pub(super) fn row_at(&self, y: f32) -> usize {
        self.row_at_exact(f64::from(y))
    }

    pub(super) fn row_at_exact(&self, y: f64) -> usize {
        let chunks = self.heights.len().div_ceil(CHUNK);
        let chunk = self.prefix[..chunks.min(self.prefix.len())]
            .partition_point(|top| *top <= y)
            .saturating_sub(1);
        let mut top = self.prefix.get(chunk).copied().unwrap_or(0.0);
        let mut index = chunk * CHUNK;
        while index + 1 < self.heights.len() {
            let bottom = top + f64::from(self.heights[index]);
            if bottom > y {
                break;
            }
            top = bottom;
            index += 1;
        }
        index.min(self.heights.len().saturating_sub(1))
    }

    pub(super) fn record_height(&mut self, index: usize, id: &EntryId, height: f32) {
        if let Some(h) = self.heights.get_mut(index)
            && (*h - height).abs() > 0.5
        {
            *h = height;
            self.prefix_dirty = true;
        }
        self.measured.insert(RowKey::of(id), height);
    }

    /// Forgets what was measured for an entry whose text changed.
    pub fn invalidate(&mut self, id: &EntryId) {
        self.measured.remove(&RowKey::of(id));
        self.galleys.remove(id);
    }

    pub fn scroll_to_bottom(&mut self) {
        self.scroll_to_bottom = true;
    }

    /// Scrolls so that entry `index` (0-based) is at the top, and keeps it there while the
    /// heights around it settle.
    pub fn scroll_to_entry(&mut self, index: usize) {
        self.ensure_prefix();
        let index = index.min(self.heights.len().saturating_sub(1));
        self.scroll_to = Some(self.top(index));
        self.anchor = Some((index, 0));
    }

    /// After a frame: while an entry is held at the top and the rows moved (`heights_changed`) or
    /// the view is not on it yet, scroll to where it is now. Returns whether another frame is
    /// needed for that.
    pub(super) fn hold_anchor(&mut self, heights_changed: bool) -> bool {
        let Some((index, frames)) = self.anchor else {
            return false;
        };
        self.ensure_prefix();
        let target = self.top(index);
        let settled = !heights_changed && (target - self.scrolled).abs() <= 1.0;
        // A few frames settle it; past that the reader is scrolling on their own.
        if settled || frames >= 12 || self.scroll_to_bottom {
            self.anchor = None;
            return false;
        }
        self.scroll_to = Some(target);
        self.anchor = Some((index, frames + 1));
        true
    }

    /// The entry at the top of the view, as last drawn.
    pub fn top_entry(&self) -> usize {
        self.row_at(self.scrolled)
    }

    /// Starts the view at entry `index` instead of the story's end (a story restored at launch).
    pub fn start_at_entry(&mut self, index: usize) {
        self.scroll_to_bottom = false;
        self.scroll_to_entry(index);
    }

    /// Whether the end of the story is out of sight below (the reader scrolled up).
    pub fn is_scrolled_up(&self) -> bool {
        let bottom = self.total_height() + self.tail_height;
        self.scrolled + self.viewport_height < bottom - 40.0
    }

    pub(super) fn galley(&mut self, ui: &egui::Ui, entry: &Entry, color: Color32) -> Arc<Galley> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        entry.content.hash(&mut hasher);
        let marks = self
            .highlight
            .as_ref()
            .map(|q| q.matches_in(&entry.content))
            .unwrap_or_default();
        marks.hash(&mut hasher);
        let content_hash = hasher.finish();
        if let Some(cached) = self.galleys.get(&entry.id)
            && cached.content_hash == content_hash
        {
            return cached.galley.clone();
        }
        let font = TextStyle::Body.resolve(ui.style());
        let galley = if marks.is_empty() {
            ui.fonts_mut(|f| f.layout(entry.content.clone(), font, color, self.wrap_width))
        } else {
            let job = marked_job(&entry.content, &marks, font, color, self.wrap_width, ui);
            ui.fonts_mut(|f| f.layout_job(job))
        };
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

/// The text laid out with the parts Find matched on a marker colour.
fn marked_job(
    text: &str,
    marks: &[std::ops::Range<usize>],
    font: egui::FontId,
    color: Color32,
    wrap_width: f32,
    ui: &egui::Ui,
) -> egui::text::LayoutJob {
    let plain = egui::TextFormat::simple(font.clone(), color);
    let marked = egui::TextFormat {
        background: crate::ui::theme::found_text(ui.visuals()),
        color: ui.visuals().strong_text_color(),
        ..egui::TextFormat::simple(font, color)
    };
    let mut job = egui::text::LayoutJob::default();
    job.wrap.max_width = wrap_width;
    let mut at = 0;
    for range in marks {
        if range.start > at {
            job.append(&text[at..range.start], 0.0, plain.clone());
        }
        job.append(&text[range.clone()], 0.0, marked.clone());
        at = range.end;
    }
    if at < text.len() {
        job.append(&text[at..], 0.0, plain);
    }
    job
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EntryKind;

    const METRICS: Metrics = Metrics {
        wrap_width: 400.0,
        font_px: 16.0,
        line_height: 20.0,
        header_height: 18.0,
    };

    use crate::domain::EntryRow;

    fn rows(chars: &[u32]) -> Vec<EntryRow> {
        chars
            .iter()
            .enumerate()
            .map(|(i, &char_count)| EntryRow {
                id: EntryId(format!("e{i}")),
                kind: EntryKind::Narration,
                char_count,
                position: i as i64,
            })
            .collect()
    }

    fn index(rows: &[EntryRow]) -> RowIndex {
        RowIndex::from_rows(rows.iter().cloned())
    }

    fn placed(chars: &[u32]) -> (StoryLayout, Vec<EntryRow>) {
        let rows = rows(chars);
        let mut layout = StoryLayout::default();
        layout.sync(&StoryId("s".into()), &index(&rows), 1, METRICS, false);
        (layout, rows)
    }

    #[test]
    fn longer_text_is_placed_taller_and_tops_add_up() {
        let (layout, _) = placed(&[10, 500, 2000]);
        assert!(layout.heights[0] < layout.heights[1] && layout.heights[1] < layout.heights[2]);
        assert_eq!(layout.top_exact(0), 0.0);
        for i in 0..3 {
            assert_eq!(
                layout.top_exact(i + 1),
                layout.top_exact(i) + f64::from(layout.heights[i])
            );
        }
        assert_eq!(layout.total_height(), layout.heights.iter().sum::<f32>());
        // Fifty characters to a line at this width: 2,000 characters are 40 lines.
        assert_eq!(
            layout.heights[2],
            2.0 * f32::from(ROW_MARGIN) + 18.0 + 40.0 * 20.0 + ROW_GAP
        );
    }

    #[test]
    fn tops_over_many_chunks_and_appends_match_a_plain_sum() {
        let chars: Vec<u32> = (0..300).map(|i| (i * 37 % 900) as u32).collect();
        let (mut layout, mut all) = placed(&chars[..150]);
        for (i, c) in chars[150..].iter().enumerate() {
            let mut row = rows(&[*c]).remove(0);
            row.id = EntryId(format!("n{i}"));
            all.push(row);
            layout.sync(
                &StoryId("s".into()),
                &index(&all),
                2 + i as u64,
                METRICS,
                false,
            );
        }
        layout.record_height(70, &all[70].id, 999.0);
        layout.ensure_prefix();
        let mut top = 0.0f64;
        for i in 0..all.len() {
            assert_eq!(layout.top_exact(i), top, "row {i}");
            assert_eq!(layout.row_at_exact(top + 0.5), i);
            top += f64::from(layout.heights[i]);
        }
        assert_eq!(layout.total_exact(), top);
        assert_eq!(layout.row_at_exact(top + 10.0), all.len() - 1);
    }

    #[test]
    fn the_row_on_screen_is_found_at_any_height() {
        let (layout, _) = placed(&[10, 500, 2000]);
        assert_eq!(layout.row_at(0.0), 0);
        assert_eq!(layout.row_at(layout.top(1) - 0.1), 0);
        assert_eq!(layout.row_at(layout.top(1)), 1);
        assert_eq!(layout.row_at(layout.top(2) + 1.0), 2);
        assert_eq!(
            layout.row_at(layout.total_height() + 500.0),
            2,
            "clamped to the last"
        );
        assert_eq!(layout.row_at(-10.0), 0);
        assert_eq!(StoryLayout::default().row_at(100.0), 0, "no rows");
    }

    #[test]
    fn a_measured_height_replaces_the_estimate_and_moves_later_rows() {
        let (mut layout, rows) = placed(&[10, 10, 10]);
        let before = layout.top_exact(2);
        layout.record_height(0, &rows[0].id, layout.heights[0] + 100.0);
        layout.ensure_prefix();
        assert_eq!(layout.top_exact(2), before + 100.0);
        // A rebuild (rows changed other than by one at the end) keeps what was measured.
        let fewer = rows[..2].to_vec();
        layout.sync(&StoryId("s".into()), &index(&fewer), 2, METRICS, false);
        assert_eq!(layout.heights.len(), 2);
        assert_eq!(
            layout.top_exact(1),
            before + 100.0 - f64::from(layout.heights[1])
        );
    }

    #[test]
    fn one_row_appended_keeps_the_rest_as_placed() {
        let (mut layout, mut rows) = placed(&[10, 10]);
        layout.record_height(1, &rows[1].id, 300.0);
        layout.ensure_prefix();
        rows.extend(self::rows(&[10, 10, 10]).pop().map(|mut r| {
            r.id = EntryId("new".into());
            r
        }));
        layout.sync(&StoryId("s".into()), &index(&rows), 2, METRICS, false);
        assert_eq!(layout.heights.len(), 3);
        assert_eq!(layout.heights[1], 300.0);
        assert_eq!(
            layout.top_exact(3),
            layout.top_exact(2) + f64::from(layout.heights[2])
        );
    }

    #[test]
    fn another_width_story_or_theme_measures_again() {
        let (mut layout, rows) = placed(&[10, 10]);
        layout.record_height(0, &rows[0].id, 300.0);
        let narrower = Metrics {
            wrap_width: 200.0,
            ..METRICS
        };
        layout.sync(&StoryId("s".into()), &index(&rows), 1, narrower, false);
        assert_ne!(
            layout.heights[0], 300.0,
            "measured at the old width: forgotten"
        );
        layout.record_height(0, &rows[0].id, 300.0);
        layout.invalidate(&rows[0].id);
        layout.sync(&StoryId("s".into()), &index(&rows), 2, narrower, false);
        assert_ne!(
            layout.heights[0], 300.0,
            "an edited entry is measured again"
        );
        let mut other = StoryLayout::default();
        other.sync(&StoryId("s".into()), &index(&rows), 1, METRICS, false);
        other.scroll_to_bottom = false;
        other.sync(&StoryId("s".into()), &index(&rows), 2, METRICS, false);
        assert!(
            !other.scroll_to_bottom,
            "the same story stays where the reader is"
        );
        other.sync(&StoryId("t".into()), &index(&rows), 1, METRICS, false);
        assert!(
            other.scroll_to_bottom,
            "a newly opened story starts at its end"
        );
    }
}
