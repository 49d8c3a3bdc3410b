//! The story view's index of a story's rows, packed so a 1,000,000-entry story costs tens of
//! megabytes, not a hundred: each row's id as sixteen bytes (a UUID's own; another id is kept
//! whole aside, under a key made from it), its position, length and kind in parallel arrays.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use super::{EntryId, EntryKind, EntryRow};

/// An entry id as the index holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RowKey([u8; 16]);

impl RowKey {
    /// The key of `id`: a lowercase hyphenated UUID's bytes (so it is written back exactly), or
    /// a 128-bit hash of any other id.
    pub fn of(id: &EntryId) -> Self {
        packed(id.as_str()).unwrap_or_else(|| Self(hashed(id.as_str())))
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// The sixteen bytes of a UUID written as Fabula writes them (`8-4-4-4-12`, lowercase).
fn packed(id: &str) -> Option<RowKey> {
    let bytes = id.as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut nibbles = 0usize;
    for (i, &c) in bytes.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return None;
            }
            continue;
        }
        let v = hex(c)?;
        out[nibbles / 2] |= if nibbles.is_multiple_of(2) { v << 4 } else { v };
        nibbles += 1;
    }
    Some(RowKey(out))
}

fn unpacked(key: &RowKey) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(36);
    for (i, b) in key.0.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

fn hashed(id: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (half, salt) in [(0usize, 0u8), (8, 1)] {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        salt.hash(&mut h);
        id.hash(&mut h);
        out[half..half + 8].copy_from_slice(&h.finish().to_le_bytes());
    }
    out
}

fn short(chars: u32) -> u16 {
    u16::try_from(chars).unwrap_or(u16::MAX)
}

/// The rows of a story as the view places them, oldest first (by position).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowIndex {
    keys: Vec<RowKey>,
    positions: Vec<i64>,
    /// Lengths for the height estimate, capped at 65,535 (a longer row is measured anyway).
    chars: Vec<u16>,
    kinds: Vec<EntryKind>,
    /// The ids that are not UUIDs, by their key.
    spilled: HashMap<RowKey, EntryId>,
}

impl RowIndex {
    pub fn from_rows(rows: impl IntoIterator<Item = EntryRow>) -> Self {
        let mut index = Self::default();
        for row in rows {
            index.push(row);
        }
        index
    }

    /// Room for `rows` rows at once, so reading a long story's index does not leave the
    /// growing arrays' earlier copies behind in the allocator.
    pub fn with_capacity(rows: usize) -> Self {
        Self {
            keys: Vec::with_capacity(rows),
            positions: Vec::with_capacity(rows),
            chars: Vec::with_capacity(rows),
            kinds: Vec::with_capacity(rows),
            spilled: HashMap::new(),
        }
    }

    pub fn shrink_to_fit(&mut self) {
        self.keys.shrink_to_fit();
        self.positions.shrink_to_fit();
        self.chars.shrink_to_fit();
        self.kinds.shrink_to_fit();
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn key_for(&mut self, id: &str) -> RowKey {
        match packed(id) {
            Some(key) => key,
            None => {
                let key = RowKey(hashed(id));
                self.spilled.insert(key, EntryId::from(id));
                key
            }
        }
    }

    /// Adds a row read from the store, after the others (rows come in position order).
    pub fn push_parts(&mut self, id: &str, kind: EntryKind, chars: u32, position: i64) {
        let key = self.key_for(id);
        self.keys.push(key);
        self.positions.push(position);
        self.chars.push(short(chars));
        self.kinds.push(kind);
    }

    pub fn push(&mut self, row: EntryRow) {
        self.push_parts(row.id.as_str(), row.kind, row.char_count, row.position);
    }

    /// Puts a row back in its place by position.
    pub fn insert_in_place(&mut self, row: EntryRow) {
        let at = self.positions.partition_point(|p| *p <= row.position);
        let key = self.key_for(row.id.as_str());
        self.keys.insert(at, key);
        self.positions.insert(at, row.position);
        self.chars.insert(at, short(row.char_count));
        self.kinds.insert(at, row.kind);
    }

    pub fn key(&self, index: usize) -> Option<RowKey> {
        self.keys.get(index).copied()
    }

    pub fn id(&self, index: usize) -> Option<EntryId> {
        let key = self.keys.get(index)?;
        Some(match self.spilled.get(key) {
            Some(id) => id.clone(),
            None => EntryId(unpacked(key)),
        })
    }

    pub fn get(&self, index: usize) -> Option<EntryRow> {
        Some(EntryRow {
            id: self.id(index)?,
            kind: *self.kinds.get(index)?,
            char_count: u32::from(*self.chars.get(index)?),
            position: *self.positions.get(index)?,
        })
    }

    pub fn last(&self) -> Option<EntryRow> {
        self.get(self.len().checked_sub(1)?)
    }

    pub fn kind(&self, index: usize) -> Option<EntryKind> {
        self.kinds.get(index).copied()
    }

    pub fn chars(&self, index: usize) -> Option<u32> {
        self.chars.get(index).copied().map(u32::from)
    }

    /// Every row's position, in order.
    pub fn positions(&self) -> &[i64] {
        &self.positions
    }

    pub fn position(&self, index: usize) -> Option<i64> {
        self.positions.get(index).copied()
    }

    /// Where the entry is, searched from the end (where writing happens).
    pub fn index_of(&self, id: &EntryId) -> Option<usize> {
        let key = RowKey::of(id);
        self.keys.iter().rposition(|k| *k == key)
    }

    /// Takes the entry's row out; whether it was there.
    pub fn remove(&mut self, id: &EntryId) -> bool {
        let Some(at) = self.index_of(id) else {
            return false;
        };
        self.keys.remove(at);
        self.positions.remove(at);
        self.chars.remove(at);
        self.kinds.remove(at);
        true
    }

    /// A new length for the entry's row; whether it was there.
    pub fn set_chars(&mut self, id: &EntryId, chars: u32) -> bool {
        match self.index_of(id) {
            Some(at) => {
                self.chars[at] = short(chars);
                true
            }
            None => false,
        }
    }

    /// The newest entry of `kind`.
    pub fn last_of_kind(&self, kind: EntryKind) -> Option<EntryId> {
        let at = self.kinds.iter().rposition(|k| *k == kind)?;
        self.id(at)
    }

    /// Keeps the rows before `position` and puts `newer` after them.
    pub fn keep_before_then(&mut self, position: i64, newer: RowIndex) {
        let at = self.positions.partition_point(|p| *p < position);
        self.keys.truncate(at);
        self.positions.truncate(at);
        self.chars.truncate(at);
        self.kinds.truncate(at);
        self.keys.extend(newer.keys);
        self.positions.extend(newer.positions);
        self.chars.extend(newer.chars);
        self.kinds.extend(newer.kinds);
        self.spilled.extend(newer.spilled);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, position: i64) -> EntryRow {
        EntryRow {
            id: EntryId::from(id),
            kind: EntryKind::Narration,
            char_count: 10,
            position,
        }
    }

    #[test]
    fn ids_come_back_exactly_uuid_or_not() {
        let ids = [
            "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
            "0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B",
            "entry-7",
            "",
        ];
        let index = RowIndex::from_rows(ids.iter().enumerate().map(|(i, id)| row(id, i as i64)));
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(index.id(i).expect("id").as_str(), *id);
            assert_eq!(index.index_of(&EntryId::from(*id)), Some(i));
        }
        assert_eq!(index.spilled.len(), 3, "only the lowercase UUID is packed");
    }

    #[test]
    fn rows_go_in_by_position_and_the_older_part_is_put_in_front() {
        let mut index = RowIndex::from_rows([row("a", 1), row("c", 5)]);
        index.insert_in_place(row("b", 3));
        assert_eq!(index.get(1).expect("b").id.as_str(), "b");
        assert!(index.remove(&EntryId::from("c")));
        assert!(!index.remove(&EntryId::from("c")));
        let mut all = RowIndex::from_rows([row("x", 0), row("a", 1), row("b", 3)]);
        all.keep_before_then(1, index);
        let ids: Vec<String> = (0..all.len()).map(|i| all.id(i).expect("id").0).collect();
        assert_eq!(ids, ["x", "a", "b"]);
    }
}
