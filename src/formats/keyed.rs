//! Reading JSON objects whose unknown keys are kept, without `#[serde(flatten)]`.
//!
//! serde's flatten buffers the whole object as untyped content before reading any field: on the
//! top level of a story file that is the entire story, copied once more and parsed twice. The
//! readers here go over the keys once, typed, and collect only the unknown ones.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, Visitor};
use serde_json::{Map, Value};

/// A key of an object with a fixed set of known names.
pub enum Key {
    /// Index into the known names.
    Known(usize),
    Other(String),
}

struct KeySeed(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: Error>(self, key: &str) -> Result<Key, E> {
        Ok(match self.0.iter().position(|name| *name == key) {
            Some(index) => Key::Known(index),
            None => Key::Other(key.to_owned()),
        })
    }

    fn visit_string<E: Error>(self, key: String) -> Result<Key, E> {
        Ok(match self.0.iter().position(|name| *name == key) {
            Some(index) => Key::Known(index),
            None => Key::Other(key),
        })
    }
}

/// Walks an object's members: `known` reads the value of a known key (by index into `names`),
/// unknown keys and their values go into the returned map. A known key given twice is an error,
/// as it is for derived readers.
pub fn read_members<'de, A: MapAccess<'de>>(
    map: &mut A,
    names: &'static [&'static str],
    mut known: impl FnMut(usize, &mut A) -> Result<(), A::Error>,
) -> Result<Map<String, Value>, A::Error> {
    let mut extra = Map::new();
    let mut seen = 0u64;
    while let Some(key) = map.next_key_seed(KeySeed(names))? {
        match key {
            Key::Known(index) => {
                let bit = 1u64 << index;
                if seen & bit != 0 {
                    return Err(A::Error::duplicate_field(names[index]));
                }
                seen |= bit;
                known(index, map)?;
            }
            Key::Other(name) => {
                let value = map.next_value::<Value>()?;
                extra.insert(name, value);
            }
        }
    }
    Ok(extra)
}
