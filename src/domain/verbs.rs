//! English verb forms for actions written in the third person or the past tense: "dive" becomes
//! "dives" or "dove", "pick up" becomes "picks up" or "picked up". Only the verb that starts an
//! action changes; its particles and object stay as typed.

/// Irregular verbs as (base, third person present, past). Common ones a player types; anything
/// else follows the regular rules.
const IRREGULAR: &[(&str, &str, &str)] = &[
    ("be", "is", "was"),
    ("have", "has", "had"),
    ("do", "does", "did"),
    ("go", "goes", "went"),
    ("arise", "arises", "arose"),
    ("awake", "awakes", "awoke"),
    ("bear", "bears", "bore"),
    ("beat", "beats", "beat"),
    ("become", "becomes", "became"),
    ("begin", "begins", "began"),
    ("bend", "bends", "bent"),
    ("bet", "bets", "bet"),
    ("bid", "bids", "bid"),
    ("bind", "binds", "bound"),
    ("bite", "bites", "bit"),
    ("bleed", "bleeds", "bled"),
    ("blow", "blows", "blew"),
    ("break", "breaks", "broke"),
    ("breed", "breeds", "bred"),
    ("bring", "brings", "brought"),
    ("build", "builds", "built"),
    ("burn", "burns", "burned"),
    ("burst", "bursts", "burst"),
    ("buy", "buys", "bought"),
    ("cast", "casts", "cast"),
    ("catch", "catches", "caught"),
    ("choose", "chooses", "chose"),
    ("cling", "clings", "clung"),
    ("come", "comes", "came"),
    ("cost", "costs", "cost"),
    ("creep", "creeps", "crept"),
    ("cut", "cuts", "cut"),
    ("deal", "deals", "dealt"),
    ("dig", "digs", "dug"),
    ("dive", "dives", "dove"),
    ("draw", "draws", "drew"),
    ("dream", "dreams", "dreamed"),
    ("drink", "drinks", "drank"),
    ("drive", "drives", "drove"),
    ("eat", "eats", "ate"),
    ("fall", "falls", "fell"),
    ("feed", "feeds", "fed"),
    ("feel", "feels", "felt"),
    ("fight", "fights", "fought"),
    ("find", "finds", "found"),
    ("flee", "flees", "fled"),
    ("fling", "flings", "flung"),
    ("fly", "flies", "flew"),
    ("forbid", "forbids", "forbade"),
    ("forget", "forgets", "forgot"),
    ("forgive", "forgives", "forgave"),
    ("freeze", "freezes", "froze"),
    ("get", "gets", "got"),
    ("give", "gives", "gave"),
    ("grind", "grinds", "ground"),
    ("grow", "grows", "grew"),
    ("hang", "hangs", "hung"),
    ("hear", "hears", "heard"),
    ("hide", "hides", "hid"),
    ("hit", "hits", "hit"),
    ("hold", "holds", "held"),
    ("hurt", "hurts", "hurt"),
    ("keep", "keeps", "kept"),
    ("kneel", "kneels", "knelt"),
    ("know", "knows", "knew"),
    ("lay", "lays", "laid"),
    ("lead", "leads", "led"),
    ("lean", "leans", "leaned"),
    ("leap", "leaps", "leapt"),
    ("leave", "leaves", "left"),
    ("lend", "lends", "lent"),
    ("let", "lets", "let"),
    ("lie", "lies", "lay"),
    ("light", "lights", "lit"),
    ("lose", "loses", "lost"),
    ("make", "makes", "made"),
    ("mean", "means", "meant"),
    ("meet", "meets", "met"),
    ("pay", "pays", "paid"),
    ("put", "puts", "put"),
    ("quit", "quits", "quit"),
    ("read", "reads", "read"),
    ("rid", "rids", "rid"),
    ("ride", "rides", "rode"),
    ("ring", "rings", "rang"),
    ("rise", "rises", "rose"),
    ("run", "runs", "ran"),
    ("say", "says", "said"),
    ("see", "sees", "saw"),
    ("seek", "seeks", "sought"),
    ("sell", "sells", "sold"),
    ("send", "sends", "sent"),
    ("set", "sets", "set"),
    ("shake", "shakes", "shook"),
    ("shed", "sheds", "shed"),
    ("shine", "shines", "shone"),
    ("shoot", "shoots", "shot"),
    ("show", "shows", "showed"),
    ("shrink", "shrinks", "shrank"),
    ("shut", "shuts", "shut"),
    ("sing", "sings", "sang"),
    ("sink", "sinks", "sank"),
    ("sit", "sits", "sat"),
    ("slay", "slays", "slew"),
    ("sleep", "sleeps", "slept"),
    ("slide", "slides", "slid"),
    ("sling", "slings", "slung"),
    ("slit", "slits", "slit"),
    ("smite", "smites", "smote"),
    ("speak", "speaks", "spoke"),
    ("speed", "speeds", "sped"),
    ("spend", "spends", "spent"),
    ("spin", "spins", "spun"),
    ("spit", "spits", "spat"),
    ("split", "splits", "split"),
    ("spread", "spreads", "spread"),
    ("spring", "springs", "sprang"),
    ("stand", "stands", "stood"),
    ("steal", "steals", "stole"),
    ("stick", "sticks", "stuck"),
    ("sting", "stings", "stung"),
    ("stride", "strides", "strode"),
    ("strike", "strikes", "struck"),
    ("string", "strings", "strung"),
    ("strive", "strives", "strove"),
    ("swear", "swears", "swore"),
    ("sweep", "sweeps", "swept"),
    ("swim", "swims", "swam"),
    ("swing", "swings", "swung"),
    ("take", "takes", "took"),
    ("teach", "teaches", "taught"),
    ("tear", "tears", "tore"),
    ("tell", "tells", "told"),
    ("think", "thinks", "thought"),
    ("throw", "throws", "threw"),
    ("thrust", "thrusts", "thrust"),
    ("tread", "treads", "trod"),
    ("understand", "understands", "understood"),
    ("wake", "wakes", "woke"),
    ("wear", "wears", "wore"),
    ("weave", "weaves", "wove"),
    ("weep", "weeps", "wept"),
    ("win", "wins", "won"),
    ("wind", "winds", "wound"),
    ("withdraw", "withdraws", "withdrew"),
    ("wring", "wrings", "wrung"),
    ("write", "writes", "wrote"),
];

/// Two-syllable verbs stressed on the end, whose last consonant doubles in the past.
const DOUBLE_FINAL: &[&str] = &[
    "admit", "commit", "compel", "confer", "control", "defer", "deter", "equip", "expel", "occur",
    "omit", "patrol", "permit", "prefer", "propel", "rebel", "refer", "regret", "submit",
    "transfer", "unwrap",
];

/// Which form an action's verb takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerbForm {
    /// "I open", "you open": as typed.
    Base,
    /// "Mara opens".
    ThirdPresent,
    /// "Mara opened", "I opened".
    Past,
}

/// `verb` (lowercase, one word) in `form`.
pub fn inflect(verb: &str, form: VerbForm) -> String {
    let irregular = IRREGULAR.iter().find(|(base, ..)| *base == verb);
    match form {
        VerbForm::Base => verb.to_owned(),
        VerbForm::ThirdPresent => match irregular {
            Some((_, third, _)) => (*third).to_owned(),
            None => third_person(verb),
        },
        VerbForm::Past => match irregular {
            Some((.., past)) => (*past).to_owned(),
            None => regular_past(verb),
        },
    }
}

/// The base of a verb typed in the third person ("walks" → "walk", "carries" → "carry"), so it
/// can be put in the past; `None` when it does not read as one.
pub fn base_of_third(word: &str) -> Option<String> {
    if let Some((base, ..)) = IRREGULAR.iter().find(|(_, third, _)| *third == word) {
        return Some((*base).to_owned());
    }
    if !is_already(word, VerbForm::ThirdPresent) {
        return None;
    }
    if let Some(stem) = word.strip_suffix("ies") {
        return Some(format!("{stem}y"));
    }
    if let Some(stem) = word.strip_suffix("es")
        && ["s", "x", "z", "ch", "sh", "o"]
            .iter()
            .any(|end| stem.ends_with(end))
    {
        return Some(stem.to_owned());
    }
    word.strip_suffix('s').map(str::to_owned)
}

/// Whether `word` already reads as `form` (the writer typed "climbs" or "opened" themselves).
pub fn is_already(word: &str, form: VerbForm) -> bool {
    match form {
        VerbForm::Base => true,
        VerbForm::ThirdPresent => {
            IRREGULAR.iter().any(|(_, third, _)| *third == word)
                || (word.ends_with('s')
                    && !["ss", "us", "is"].iter().any(|end| word.ends_with(end))
                    && !IRREGULAR.iter().any(|(base, ..)| *base == word))
        }
        VerbForm::Past => {
            IRREGULAR
                .iter()
                .any(|(base, _, past)| *past == word && *base != word)
                || (word.ends_with("ed")
                    && !word.ends_with("eed")
                    && !IRREGULAR.iter().any(|(base, ..)| *base == word))
        }
    }
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

fn third_person(verb: &str) -> String {
    let ends = |s: &str| verb.ends_with(s);
    if ends("s") || ends("x") || ends("z") || ends("ch") || ends("sh") || ends("o") {
        format!("{verb}es")
    } else if let Some(stem) = consonant_y(verb) {
        format!("{stem}ies")
    } else {
        format!("{verb}s")
    }
}

/// The stem before a final "y" that follows a consonant ("carr" of "carry").
fn consonant_y(verb: &str) -> Option<&str> {
    let stem = verb.strip_suffix('y')?;
    let before = stem.chars().last()?;
    (!is_vowel(before)).then_some(stem)
}

fn regular_past(verb: &str) -> String {
    if verb.ends_with('e') {
        format!("{verb}d")
    } else if let Some(stem) = consonant_y(verb) {
        format!("{stem}ied")
    } else if doubles_final_consonant(verb) {
        let last = verb.chars().last().unwrap_or_default();
        format!("{verb}{last}ed")
    } else {
        format!("{verb}ed")
    }
}

/// "stop" → "stopped", "grab" → "grabbed": one vowel before one final consonant in a one-syllable
/// verb (not w, x or y), or a verb stressed on its end.
fn doubles_final_consonant(verb: &str) -> bool {
    if DOUBLE_FINAL.contains(&verb) {
        return true;
    }
    let chars: Vec<char> = verb.chars().collect();
    let [.., a, b, c] = chars[..] else {
        return false;
    };
    let vowel_groups = chars
        .iter()
        .zip(std::iter::once(&' ').chain(chars.iter()))
        .filter(|(c, before)| is_vowel(**c) && !is_vowel(**before))
        .count();
    vowel_groups == 1 && !is_vowel(a) && is_vowel(b) && !is_vowel(c) && !"wxy".contains(c)
}

/// Small English words that say a typed action is English (a verb alone is taken as one too).
const ENGLISH_MARKERS: &[&str] = &[
    "the", "a", "an", "to", "at", "of", "my", "his", "her", "their", "its", "into", "toward",
    "towards", "with", "on", "in", "and", "up", "down", "out", "off", "over", "through", "for",
    "from", "around", "back", "away", "it", "him", "them", "me", "this", "that", "some",
];

/// The action with its first verb in `form`: "dive toward the door" → "dives toward the door";
/// a leading "-ly" adverb stays in front ("quickly opens"). Left as typed when it does not read
/// as English or its first word is not a plain lowercase word.
pub(super) fn conjugate_leading_verb(body: &str, form: VerbForm) -> String {
    if form == VerbForm::Base {
        return body.to_owned();
    }
    let words: Vec<&str> = body.split(' ').collect();
    let plain = |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase());
    let english = body.is_ascii()
        && (words.len() == 1
            || words.iter().skip(1).any(|w| {
                let w = w.trim_matches(|c: char| !c.is_ascii_alphabetic());
                ENGLISH_MARKERS.contains(&w.to_ascii_lowercase().as_str())
            }));
    if !english {
        return body.to_owned();
    }
    let verb_at = match words.as_slice() {
        [adverb, next, ..] if adverb.len() > 4 && adverb.ends_with("ly") && plain(next) => 1,
        _ => 0,
    };
    let Some(typed) = words.get(verb_at).filter(|w| plain(w)) else {
        return body.to_owned();
    };
    // "walks" typed in a past-tense story is put in the past from its base.
    let verb = match form {
        VerbForm::Past => base_of_third(typed).unwrap_or_else(|| (*typed).to_owned()),
        _ => (*typed).to_owned(),
    };
    if is_already(&verb, form) {
        return body.to_owned();
    }
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i == verb_at {
                inflect(&verb, form)
            } else {
                (*w).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_and_irregular_forms() {
        for (base, third, past) in [
            ("open", "opens", "opened"),
            ("dive", "dives", "dove"),
            ("ring", "rings", "rang"),
            ("carry", "carries", "carried"),
            ("stay", "stays", "stayed"),
            ("watch", "watches", "watched"),
            ("push", "pushes", "pushed"),
            ("stop", "stops", "stopped"),
            ("grab", "grabs", "grabbed"),
            ("admit", "admits", "admitted"),
            ("visit", "visits", "visited"),
            ("open", "opens", "opened"),
            ("fix", "fixes", "fixed"),
            ("echo", "echoes", "echoed"),
            ("go", "goes", "went"),
            ("be", "is", "was"),
            ("have", "has", "had"),
            ("fly", "flies", "flew"),
            ("look", "looks", "looked"),
            ("knock", "knocks", "knocked"),
        ] {
            assert_eq!(inflect(base, VerbForm::ThirdPresent), third, "{base}");
            assert_eq!(inflect(base, VerbForm::Past), past, "{base}");
            assert_eq!(inflect(base, VerbForm::Base), base);
            assert!(is_already(third, VerbForm::ThirdPresent), "{third}");
            assert!(is_already(past, VerbForm::Past) || past == base, "{past}");
        }
        for base in [
            "open", "dive", "press", "focus", "pass", "need", "feed", "shed",
        ] {
            assert!(!is_already(base, VerbForm::ThirdPresent), "{base}");
            assert!(!is_already(base, VerbForm::Past), "{base}");
        }
    }
}
