//! Following one record back through its history, across primary-key changes, and
//! rebuilding its state at a point in time. Pure: the drivers feed it rows.

use crate::activity::Verb;
use crate::audited::AuditedTable;
use crate::entry::Entry;
use chrono::{DateTime, Utc};

/// The walk back through one record's history.
///
/// Each step reads the activities of one key (below an id bound) and keeps, from the
/// newest backwards, those up to the record's start: its insert (earlier activities of
/// the same key belong to an earlier record that was deleted or moved away), or the
/// update that gave it this key, after which the walk continues with the old key below
/// that update's id.
pub(crate) struct Walk<T> {
    key: Option<String>,
    bound: i64,
    /// Kept activities, newest chunk first.
    chunks: Vec<Vec<Entry<T>>>,
}

impl<T> Walk<T> {
    /// A walk starting at the newest activity of the key with JSON text `key`.
    pub(crate) fn new(key: String) -> Self {
        Self {
            key: Some(key),
            bound: i64::MAX,
            chunks: Vec::new(),
        }
    }

    /// The key (JSON text) and exclusive id bound of the next read, or `None` when the
    /// walk is done.
    pub(crate) fn next(&self) -> Option<(&str, i64)> {
        self.key.as_deref().map(|k| (k, self.bound))
    }

    /// Feeds the activities of the last read, oldest first, each with the key the
    /// record had before it if it changed the key.
    pub(crate) fn feed(&mut self, mut rows: Vec<(Entry<T>, Option<String>)>) {
        let start = rows
            .iter()
            .rposition(|(e, previous)| e.verb == Verb::Insert || previous.is_some());
        let kept = match start {
            None => {
                self.key = None;
                rows
            }
            Some(i) => {
                let tail = rows.split_off(i);
                let (first, previous) = &tail[0];
                self.bound = first.id;
                self.key = previous.clone();
                tail
            }
        };
        self.chunks
            .push(kept.into_iter().map(|(entry, _)| entry).collect());
    }

    /// The record's history, oldest first.
    pub(crate) fn finish(self) -> Vec<Entry<T>> {
        self.chunks.into_iter().rev().flatten().collect()
    }
}

/// The record's row after the last of `history` (one record's history, oldest first, as
/// [`history`](super::history) returns it) issued at or before `at`: `None` when it did
/// not exist then (not yet inserted, or deleted). Answers many points in time from one
/// history read; [`as_of`](super::as_of) answers one.
pub fn state_at<T: AuditedTable>(history: &[Entry<T>], at: DateTime<Utc>) -> Option<T::Row> {
    // issued_at follows id order within one record's history except across concurrent
    // transactions; the last activity by id at or before `at` is the state.
    history
        .iter()
        .rev()
        .find(|e| e.issued_at <= at)
        .and_then(|e| e.change.row_after())
}

/// `as_of` asked for a time before the oldest kept activity of a record whose history
/// does not start with its insert: the older activities were dropped by retention
/// (`[activity] retention`) or predate auditing, so the state then is unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the history of this record starts at {earliest} (activity {activity_id}, not its \
     insert): older activity was dropped by retention or predates auditing, so its state \
     at {at} is unknown"
)]
pub struct HistoryStartsLater {
    /// The time asked for.
    pub at: DateTime<Utc>,
    /// When the oldest kept activity of the record was issued.
    pub earliest: DateTime<Utc>,
    /// That activity's id.
    pub activity_id: i64,
}

/// [`state_at`] for the `as_of` queries: a time before the oldest kept activity of a
/// history that does not start with the record's insert is a [`HistoryStartsLater`]
/// error rather than "did not exist".
pub(crate) fn known_state_at<T: AuditedTable>(
    history: &[Entry<T>],
    at: DateTime<Utc>,
) -> Result<Option<T::Row>, HistoryStartsLater> {
    match history.first() {
        Some(first) if first.verb != Verb::Insert && at < first.issued_at => {
            Err(HistoryStartsLater {
                at,
                earliest: first.issued_at,
                activity_id: first.id,
            })
        }
        _ => Ok(state_at(history, at)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::Xid8;

    fn entry(id: i64, verb: Verb) -> Entry<()> {
        Entry {
            id,
            issued_at: DateTime::UNIX_EPOCH,
            verb,
            schema_name: "public".into(),
            table_name: "t".into(),
            object_id: None,
            native_transaction_id: Xid8(1),
            change: (),
            transaction: None,
        }
    }

    fn ids(entries: &[Entry<()>]) -> Vec<i64> {
        entries.iter().map(|e| e.id).collect()
    }

    #[test]
    fn a_record_without_key_change_is_one_read() {
        let mut walk = Walk::new("1".into());
        assert_eq!(walk.next(), Some(("1", i64::MAX)));
        walk.feed(vec![
            (entry(3, Verb::Insert), None),
            (entry(5, Verb::Update), None),
        ]);
        assert_eq!(walk.next(), None);
        assert_eq!(ids(&walk.finish()), [3, 5]);
    }

    #[test]
    fn a_key_change_continues_with_the_old_key_below_it() {
        let mut walk = Walk::new("2".into());
        walk.feed(vec![
            // An earlier record with key 2, deleted before record 1 took the key.
            (entry(2, Verb::Insert), None),
            (entry(4, Verb::Delete), None),
            (entry(6, Verb::Update), Some("1".into())),
            (entry(7, Verb::Update), None),
        ]);
        assert_eq!(walk.next(), Some(("1", 6)));
        walk.feed(vec![
            (entry(1, Verb::Insert), None),
            (entry(5, Verb::Update), None),
        ]);
        assert_eq!(walk.next(), None);
        assert_eq!(ids(&walk.finish()), [1, 5, 6, 7]);
    }

    #[test]
    fn a_reinserted_key_starts_a_new_record() {
        let mut walk = Walk::new("1".into());
        walk.feed(vec![
            (entry(1, Verb::Insert), None),
            (entry(2, Verb::Delete), None),
            (entry(3, Verb::Insert), None),
        ]);
        assert_eq!(ids(&walk.finish()), [3]);
    }
}
