//! "Did you mean …?" suggestions for misspelt names.

/// The candidate closest to `wanted`, if one is close enough to be a plausible typo.
///
/// Case is ignored when comparing because a wrong case is the most common slip with SQL
/// names. A candidate qualifies when its edit distance is at most a third of the longer
/// name (at least one edit), or when the Jaro-Winkler similarity is high, which catches
/// long names with a few transposed letters.
pub(crate) fn closest<'a, I>(wanted: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let wanted_lower = wanted.to_lowercase();
    let mut best: Option<(usize, f64, &'a str)> = None;
    for candidate in candidates {
        if candidate == wanted {
            continue;
        }
        let lower = candidate.to_lowercase();
        let distance = strsim::damerau_levenshtein(&wanted_lower, &lower);
        let similarity = strsim::jaro_winkler(&wanted_lower, &lower);
        let longest = wanted_lower.chars().count().max(lower.chars().count());
        let close = distance <= (longest / 3).max(1) || similarity >= 0.9;
        if !close {
            continue;
        }
        let better = match best {
            None => true,
            Some((d, s, _)) => distance < d || (distance == d && similarity > s),
        };
        if better {
            best = Some((distance, similarity, candidate));
        }
    }
    best.map(|(_, _, name)| name)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_only_close_names() {
        let names = ["title", "body", "created_at"];
        assert_eq!(closest("titel", names), Some("title"));
        assert_eq!(closest("Title", names), Some("title"));
        assert_eq!(closest("craeted_at", names), Some("created_at"));
        assert_eq!(closest("zzz", names), None);
        assert_eq!(closest("", names), None);
        assert_eq!(closest("title", names), None);
    }
}
