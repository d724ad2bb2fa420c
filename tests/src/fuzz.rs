//! Helpers of the fuzz harnesses: proptest runs with a bounded number of cases (raised
//! with [`CASES_ENV`] for long runs), a deadline per case so that a hang fails instead
//! of stalling CI, and structure-blind mutations of real inputs (seeds).
//!
//! cargo-fuzz needs a nightly compiler; these harnesses run on stable in the ordinary
//! test suite.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The environment variable that sets the number of cases of every fuzz target
/// (`AUDIT_FUZZ_CASES=100000 cargo test -p … --test fuzz_…` for a long run).
pub const CASES_ENV: &str = "AUDIT_FUZZ_CASES";

/// The longest one case may take before it counts as a hang.
pub const CASE_DEADLINE: Duration = Duration::from_secs(20);

/// The number of cases to run: [`CASES_ENV`] if set, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var(CASES_ENV)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Runs `test` on `cases(default)` inputs drawn from `strategy`, each on its own thread
/// (the default 2 MiB stack, so unbounded recursion shows) under [`CASE_DEADLINE`].
/// A panic or a hang fails with proptest's shrunk input; returns the number of
/// executions, after printing it with `name` and the time taken.
pub fn run<S>(name: &str, default: u32, strategy: S, test: fn(&S::Value)) -> u64
where
    S: Strategy,
    S::Value: Send + Sync + 'static,
{
    let executions = Arc::new(AtomicU64::new(0));
    let mut runner = TestRunner::new(Config {
        cases: cases(default),
        failure_persistence: None,
        // Shrinking a hang would rerun it many times: give up after a minute.
        max_shrink_time: 60_000,
        ..Config::default()
    });
    let started = Instant::now();
    let counter = Arc::clone(&executions);
    let result = runner.run(&strategy, move |input| {
        counter.fetch_add(1, Ordering::Relaxed);
        let (done, wait) = std::sync::mpsc::channel();
        let input = Arc::new(input);
        let shared = Arc::clone(&input);
        let worker = std::thread::Builder::new()
            .name(format!("fuzz case {}", counter.load(Ordering::Relaxed)))
            .spawn(move || {
                let outcome =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(&shared)));
                let _ = done.send(outcome.err().map(|p| panic_message(&*p)));
            })
            .expect("spawn a fuzz case");
        match wait.recv_timeout(CASE_DEADLINE) {
            Ok(None) => {
                let _ = worker.join();
                Ok(())
            }
            Ok(Some(message)) => {
                let _ = worker.join();
                Err(TestCaseError::fail(format!("panicked: {message}")))
            }
            Err(_) => Err(TestCaseError::fail(format!(
                "no result after {CASE_DEADLINE:?}: a hang"
            ))),
        }
    });
    let total = executions.load(Ordering::Relaxed);
    if let Err(e) = result {
        panic!("fuzz target {name} failed after {total} executions: {e}");
    }
    println!(
        "fuzz {name}: {total} executions in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    total
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a non-text panic".to_owned())
}

/// One structure-blind edit of a text. Positions are taken modulo the text's length
/// (and moved back to a character boundary), so every edit applies to every text.
#[derive(Debug, Clone)]
pub enum Edit {
    /// Cut the text at a position.
    Truncate(usize),
    /// Replace the character at a position with a fragment.
    Replace(usize, String),
    /// Insert a fragment at a position.
    Insert(usize, String),
    /// Flip one bit of the byte at a position (kept only when the text stays UTF-8).
    FlipBit(usize, u8),
    /// Remove a line.
    DeleteLine(usize),
    /// Repeat a line.
    DuplicateLine(usize),
    /// Exchange two lines.
    SwapLines(usize, usize),
    /// Insert a whole line (a fragment) before a line.
    InsertLine(usize, String),
}

/// Edits whose fragments are drawn from `fragments` (the tokens that matter for the
/// format under test) or are short arbitrary text.
pub fn edit(fragments: &'static [&'static str]) -> impl Strategy<Value = Edit> {
    let fragment = prop_oneof![
        3 => prop::sample::select(fragments).prop_map(str::to_owned),
        1 => "\\PC{0,6}",
        1 => "[\\x00-\\x7f]{1,3}",
    ];
    prop_oneof![
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), fragment.clone()).prop_map(|(at, f)| Edit::Replace(at, f)),
        (any::<usize>(), fragment.clone()).prop_map(|(at, f)| Edit::Insert(at, f)),
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Edit::FlipBit(at, bit)),
        any::<usize>().prop_map(Edit::DeleteLine),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        (any::<usize>(), fragment).prop_map(|(at, f)| Edit::InsertLine(at, f)),
    ]
}

/// A seed chosen from `seeds` with one to `max_edits` edits.
pub fn mutated(
    seeds: usize,
    fragments: &'static [&'static str],
    max_edits: usize,
) -> impl Strategy<Value = (usize, Vec<Edit>)> {
    (
        0..seeds,
        prop::collection::vec(edit(fragments), 1..=max_edits),
    )
}

/// `text` with `edits` applied in order.
pub fn apply(text: &str, edits: &[Edit]) -> String {
    let mut text = text.to_owned();
    for edit in edits {
        text = apply_one(text, edit);
    }
    text
}

fn boundary(text: &str, at: usize) -> usize {
    if text.is_empty() {
        return 0;
    }
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply_one(mut text: String, edit: &Edit) -> String {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    let line = |at: usize, lines: &Vec<String>| at % lines.len().max(1);
    match edit {
        Edit::Truncate(at) => {
            let at = boundary(&text, *at);
            text.truncate(at);
            text
        }
        Edit::Replace(at, fragment) => {
            let at = boundary(&text, *at);
            let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
            text.replace_range(at..end, fragment);
            text
        }
        Edit::Insert(at, fragment) => {
            let at = boundary(&text, *at);
            text.insert_str(at, fragment);
            text
        }
        Edit::FlipBit(at, bit) => {
            if text.is_empty() {
                return text;
            }
            let mut bytes = text.clone().into_bytes();
            let at = at % bytes.len();
            bytes[at] ^= 1 << bit;
            String::from_utf8(bytes).unwrap_or(text)
        }
        Edit::DeleteLine(at) => {
            if !lines.is_empty() {
                let at = line(*at, &lines);
                lines.remove(at);
            }
            lines.concat()
        }
        Edit::DuplicateLine(at) => {
            if !lines.is_empty() {
                let at = line(*at, &lines);
                let copy = lines[at].clone();
                lines.insert(at, copy);
            }
            lines.concat()
        }
        Edit::SwapLines(a, b) => {
            if !lines.is_empty() {
                let (a, b) = (line(*a, &lines), line(*b, &lines));
                lines.swap(a, b);
            }
            lines.concat()
        }
        Edit::InsertLine(at, fragment) => {
            let at = line(*at, &lines).min(lines.len());
            lines.insert(at, format!("{fragment}\n"));
            lines.concat()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_keep_utf8_and_apply_to_any_text() {
        let text = "é\nab\n日本\n";
        for edit in [
            Edit::Truncate(1),
            Edit::Replace(4, "$$".into()),
            Edit::Insert(100, "'".into()),
            Edit::FlipBit(3, 0),
            Edit::DeleteLine(1),
            Edit::DuplicateLine(5),
            Edit::SwapLines(0, 2),
            Edit::InsertLine(1, "\\restrict k".into()),
        ] {
            let out = apply(text, std::slice::from_ref(&edit));
            assert_ne!(out, text, "{edit:?}");
            let _ = apply("", &[edit]);
        }
        assert_eq!(apply(text, &[Edit::Truncate(1)]), "");
        assert_eq!(apply(text, &[Edit::SwapLines(0, 2)]), "日本\nab\né\n");
        assert_eq!(
            apply(text, &[Edit::InsertLine(1, "x".into())]),
            "é\nx\nab\n日本\n"
        );
    }

    #[test]
    fn cases_come_from_the_environment_or_the_default() {
        // The variable is not set by the test suite itself.
        if std::env::var_os(CASES_ENV).is_none() {
            assert_eq!(cases(7), 7);
        }
    }
}
