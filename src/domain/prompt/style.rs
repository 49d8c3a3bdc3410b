//! How the narrator is told to write: point of view and tense, and the length of a narration.

use super::super::story::{Pov, Tense};
use super::super::story_settings::NarrationLength;

/// How the narrator is told to write, for each point of view and tense.
pub fn style_instruction(pov: Pov, tense: Tense) -> &'static str {
    match (pov, tense) {
        (Pov::First, Tense::Present) => {
            "Write in the first person and the present tense, as the protagonist (\"I step inside. The air is cold.\")."
        }
        (Pov::First, Tense::Past) => {
            "Write in the first person and the past tense, as the protagonist (\"I stepped inside. The air was cold.\")."
        }
        (Pov::Second, Tense::Present) => {
            "Write in the second person and the present tense, addressing the protagonist as \"you\" (\"You step inside. The air is cold.\")."
        }
        (Pov::Second, Tense::Past) => {
            "Write in the second person and the past tense, addressing the protagonist as \"you\" (\"You stepped inside. The air was cold.\")."
        }
        (Pov::Third, Tense::Present) => {
            "Write in the third person and the present tense, naming the protagonist (\"She steps inside. The air is cold.\")."
        }
        (Pov::Third, Tense::Past) => {
            "Write in the third person and the past tense, naming the protagonist (\"She stepped inside. The air was cold.\")."
        }
    }
}

pub(super) fn length_instruction(length: NarrationLength) -> &'static str {
    match length {
        NarrationLength::Short => "one short paragraph (about 100 words)",
        NarrationLength::Medium => "two or three paragraphs (about 250 words)",
        NarrationLength::Long => "four to six paragraphs (about 450 words)",
    }
}
