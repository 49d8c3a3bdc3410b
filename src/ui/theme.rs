//! Every colour the window uses, and the text sizes and light or dark look from the
//! preferences: the one place to change how Fabula looks (clippy.toml keeps colours from being
//! made anywhere else).
#![allow(clippy::disallowed_methods)]

use egui::Color32;

use crate::domain::{EntryKind, Prefs, ThemeChoice};

/// The parts of the context window in the budget bar, in the order they are drawn.
pub const BUDGET_PARTS: [(&str, Color32); 7] = [
    ("System", Color32::from_rgb(110, 130, 170)),
    ("Lore", Color32::from_rgb(160, 110, 190)),
    ("World", Color32::from_rgb(200, 150, 80)),
    ("Memory", Color32::from_rgb(190, 100, 110)),
    ("History", Color32::from_rgb(90, 160, 110)),
    ("Input", Color32::from_rgb(80, 140, 220)),
    ("Reserved for the reply", Color32::from_rgb(120, 120, 120)),
];

/// A warning that is not an error yet (the context window nearly full).
pub const WARNING: Color32 = Color32::from_rgb(230, 160, 40);

/// A QR code's modules and its quiet border: scanners want plain black on white whatever the
/// theme.
pub const QR_DARK: Color32 = Color32::BLACK;
pub const QR_LIGHT: Color32 = Color32::WHITE;

/// No fill: a row drawn on the panel's own background.
pub const NONE: Color32 = Color32::TRANSPARENT;

/// Behind text Find matched: a highlighter's yellow, dimmed for the dark theme.
pub fn found_text(visuals: &egui::Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_rgb(120, 96, 20)
    } else {
        Color32::from_rgb(255, 226, 120)
    }
}

/// Text a change would add (a diff's new side): green, readable on both themes.
pub fn added_text(visuals: &egui::Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_rgb(120, 200, 130)
    } else {
        Color32::from_rgb(20, 110, 40)
    }
}

/// The colour of an entry's kind label: the user's actions stand out, narration recedes.
pub fn entry_kind(kind: EntryKind, visuals: &egui::Visuals) -> Color32 {
    match kind {
        EntryKind::UserAction => {
            if visuals.dark_mode {
                Color32::from_rgb(120, 170, 255)
            } else {
                Color32::from_rgb(30, 90, 200)
            }
        }
        EntryKind::Narration => visuals.weak_text_color(),
        EntryKind::System | EntryKind::Retry => Color32::from_rgb(170, 140, 60),
    }
}

/// Light or dark, and the text sizes for the chosen font size.
pub fn apply_prefs(ctx: &egui::Context, prefs: Prefs) {
    ctx.set_theme(match prefs.theme {
        ThemeChoice::Dark => egui::Theme::Dark,
        ThemeChoice::Light => egui::Theme::Light,
    });
    let body = prefs.font_size.body_points();
    ctx.all_styles_mut(|style| {
        use egui::{FontFamily, FontId, TextStyle};
        style.text_styles = [
            (
                TextStyle::Small,
                FontId::new(body * 0.75, FontFamily::Proportional),
            ),
            (TextStyle::Body, FontId::new(body, FontFamily::Proportional)),
            (
                TextStyle::Button,
                FontId::new(body * 0.95, FontFamily::Proportional),
            ),
            (
                TextStyle::Heading,
                FontId::new(body * 1.5, FontFamily::Proportional),
            ),
            (
                TextStyle::Monospace,
                FontId::new(body * 0.9, FontFamily::Monospace),
            ),
        ]
        .into();
    });
}
