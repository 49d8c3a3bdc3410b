//! User preferences that shape the window: theme, text size and line width, with their stored spellings.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ThemeChoice {
    #[default]
    Dark,
    Light,
}

impl ThemeChoice {
    pub const ALL: [ThemeChoice; 2] = [ThemeChoice::Dark, ThemeChoice::Light];
    pub const KEY: &'static str = "ui.theme";

    pub fn as_str(self) -> &'static str {
        match self {
            ThemeChoice::Dark => "dark",
            ThemeChoice::Light => "light",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            ThemeChoice::Dark => "Dark",
            ThemeChoice::Light => "Light",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FontSize {
    Small,
    #[default]
    Medium,
    Large,
    XLarge,
    XxLarge,
}

impl FontSize {
    pub const ALL: [FontSize; 5] = [
        FontSize::Small,
        FontSize::Medium,
        FontSize::Large,
        FontSize::XLarge,
        FontSize::XxLarge,
    ];
    pub const KEY: &'static str = "ui.font_size";

    pub fn as_str(self) -> &'static str {
        match self {
            FontSize::Small => "small",
            FontSize::Medium => "medium",
            FontSize::Large => "large",
            FontSize::XLarge => "x-large",
            FontSize::XxLarge => "xx-large",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            FontSize::Small => "Small",
            FontSize::Medium => "Medium",
            FontSize::Large => "Large",
            FontSize::XLarge => "Extra large",
            FontSize::XxLarge => "Huge",
        }
    }

    /// Body text size in points; other text styles scale from it.
    pub fn body_points(self) -> f32 {
        match self {
            FontSize::Small => 12.5,
            FontSize::Medium => 14.5,
            FontSize::Large => 16.5,
            FontSize::XLarge => 19.0,
            FontSize::XxLarge => 22.0,
        }
    }
}

/// How wide the story's prose may run: long lines are hard to read, so by default a line holds
/// about as much as a printed page's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LineWidth {
    Narrow,
    #[default]
    Comfortable,
    Wide,
    Full,
}

impl LineWidth {
    pub const ALL: [LineWidth; 4] = [
        LineWidth::Narrow,
        LineWidth::Comfortable,
        LineWidth::Wide,
        LineWidth::Full,
    ];
    pub const KEY: &'static str = "ui.line_width";

    pub fn as_str(self) -> &'static str {
        match self {
            LineWidth::Narrow => "narrow",
            LineWidth::Comfortable => "comfortable",
            LineWidth::Wide => "wide",
            LineWidth::Full => "full",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            LineWidth::Narrow => "Narrow (about 60 characters)",
            LineWidth::Comfortable => "Comfortable (about 80 characters)",
            LineWidth::Wide => "Wide (about 110 characters)",
            LineWidth::Full => "The window's width",
        }
    }

    /// The widest a line of prose may be at this text size, in points; `None` for no limit.
    /// An average character of a proportional face is about half the font size wide.
    pub fn max_points(self, font_points: f32) -> Option<f32> {
        let chars = match self {
            LineWidth::Narrow => 60.0,
            LineWidth::Comfortable => 80.0,
            LineWidth::Wide => 110.0,
            LineWidth::Full => return None,
        };
        Some(chars * font_points * 0.5)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Prefs {
    pub theme: ThemeChoice,
    pub font_size: FontSize,
    pub line_width: LineWidth,
}
