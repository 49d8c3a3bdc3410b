//! User preferences that shape the window: theme and text size, with their stored spellings.

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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Prefs {
    pub theme: ThemeChoice,
    pub font_size: FontSize,
}
