//! Sets of instants as sorted, disjoint, closed intervals `[from, to]` of seconds.

/// Sorts `spans` and merges the ones that overlap or touch, in place.
pub(crate) fn normalize(spans: &mut Vec<(i64, i64)>) {
    spans.sort_unstable();
    let mut kept = 0;
    for i in 0..spans.len() {
        let (from, to) = spans[i];
        if kept > 0 && from <= spans[kept - 1].1.saturating_add(1) {
            spans[kept - 1].1 = spans[kept - 1].1.max(to);
        } else {
            spans[kept] = (from, to);
            kept += 1;
        }
    }
    spans.truncate(kept);
}

/// Appends to `out` the instants of `spans` that are in none of `holes`. Both must be
/// normalized.
pub(crate) fn subtract(spans: &[(i64, i64)], holes: &[(i64, i64)], out: &mut Vec<(i64, i64)>) {
    let mut next_hole = 0;
    for &(from, to) in spans {
        let mut cursor = from;
        while next_hole < holes.len() && holes[next_hole].1 < cursor {
            next_hole += 1;
        }
        let mut hole = next_hole;
        while cursor <= to {
            match holes.get(hole) {
                Some(&(hole_from, hole_to)) if hole_from <= to => {
                    if hole_from > cursor {
                        out.push((cursor, hole_from - 1));
                    }
                    cursor = cursor.max(hole_to.saturating_add(1));
                    hole += 1;
                }
                _ => {
                    out.push((cursor, to));
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_and_touching_spans_are_merged() {
        let mut spans = vec![(10, 20), (0, 5), (6, 8), (15, 30), (40, 41)];
        normalize(&mut spans);
        assert_eq!(spans, vec![(0, 8), (10, 30), (40, 41)]);
    }

    #[test]
    fn holes_are_cut_out_of_spans() {
        let mut out = Vec::new();
        subtract(
            &[(0, 100), (200, 300)],
            &[(-5, 0), (10, 20), (50, 250), (290, 400)],
            &mut out,
        );
        assert_eq!(out, vec![(1, 9), (21, 49), (251, 289)]);
    }

    #[test]
    fn a_hole_covering_everything_leaves_nothing() {
        let mut out = Vec::new();
        subtract(&[(0, 10), (20, 30)], &[(-100, 100)], &mut out);
        assert!(out.is_empty());
        subtract(&[(0, 10)], &[], &mut out);
        assert_eq!(out, vec![(0, 10)]);
    }
}
