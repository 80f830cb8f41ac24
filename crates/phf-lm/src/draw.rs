//! One draw per row from filtered next-token probabilities, on the CPU, row by row.
//!
//! libtorch's `topk` sorts (value, index) pairs of the whole row to find a few dozen tokens; at a batch of 256
//! and an 8k vocabulary it took more time than the model's matrix products. Here each row is scanned once for
//! the tokens above a probability floor, only those are sorted, and the floor is lowered only when they do not
//! hold the nucleus: a handful of tokens for a confident row, a full sort only for a flat one. The kept set is
//! the one libtorch's filtering keeps (same cumulative sums, same comparisons, ties at the cutoff kept), and the
//! draw uses its own seeded stream, so batches can be sampled in any order with the same result.

use rand::Rng;

/// Top-k and nucleus settings of one draw.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Filter {
    /// Keep only the k most likely tokens (and ties with the k-th); 0 turns it off.
    pub top_k: usize,
    /// Nucleus mass; 1.0 turns it off.
    pub top_p: f64,
}

/// One token per row of `probs` (rows of `vocab` probabilities, each summing to 1).
pub(crate) fn draw_rows(probs: &[f32], vocab: usize, filter: Filter, rng: &mut impl Rng) -> Vec<i64> {
    let mut candidates = Vec::new();
    probs
        .chunks_exact(vocab)
        .map(|row| draw_row(row, filter, &mut candidates, rng) as i64)
        .collect()
}

/// The tokens `filter` keeps of `row`, in increasing id order.
#[cfg(test)]
pub(crate) fn kept_tokens(row: &[f32], filter: Filter) -> Vec<i64> {
    let mut candidates = Vec::new();
    let n = kept_prefix(row, filter, &mut candidates);
    let mut ids: Vec<i64> = candidates[..n].iter().map(|&(_, i)| i as i64).collect();
    ids.sort();
    ids
}

/// A token drawn from `row` restricted to its filtered set, in proportion to its probability.
fn draw_row(row: &[f32], filter: Filter, candidates: &mut Vec<(f32, u32)>, rng: &mut impl Rng) -> usize {
    if filter.top_k == 0 && filter.top_p >= 1.0 {
        return draw_among(row.iter().copied().enumerate().map(|(i, p)| (p, i as u32)), rng);
    }
    let kept = kept_prefix(row, filter, candidates);
    draw_among(candidates[..kept].iter().copied(), rng)
}

/// Sorts into `candidates` (most likely first) enough of the row's tokens to hold its filtered set, and returns
/// how many of them the filter keeps.
fn kept_prefix(row: &[f32], filter: Filter, candidates: &mut Vec<(f32, u32)>) -> usize {
    // a floor at which the tokens above it usually hold the nucleus of a trained model's row
    let mut floor = 1e-3_f32;
    loop {
        candidates.clear();
        candidates.extend(
            row.iter()
                .enumerate()
                .filter(|&(_, &p)| p >= floor && p > 0.0)
                .map(|(i, &p)| (p, i as u32)),
        );
        let complete = floor <= 0.0 || candidates.len() == row.len();
        if let Some(kept) = kept_among(candidates, filter, complete) {
            return kept;
        }
        // too few tokens above the floor: lower it; below 1e-9 of the mass take every token with any
        floor = if floor > 1e-9 { floor / 16.0 } else { 0.0 };
    }
}

/// Sorts `candidates` and returns how many the filter keeps, or None when they may not hold the whole kept set
/// (tokens below the floor could belong to it) unless `complete`.
fn kept_among(candidates: &mut [(f32, u32)], filter: Filter, complete: bool) -> Option<usize> {
    let total: f64 = candidates.iter().map(|&(p, _)| p as f64).sum();
    if !complete {
        let enough_for_k = filter.top_k == 0 || candidates.len() >= filter.top_k;
        // without top-k the candidates must hold the nucleus mass of the whole row (which sums to 1), with a margin
        // for the rounding of the cumulative sums below
        let enough_mass = filter.top_k > 0 || total >= filter.top_p + 1e-6;
        if !(enough_for_k && enough_mass) {
            return None;
        }
    }
    candidates.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    // top-k: the k-th probability and every tie with it; the nucleus is then taken of the renormalised top k
    let mut end = candidates.len();
    let mut mass = 1.0_f64;
    if filter.top_k > 0 && filter.top_k < candidates.len() {
        let kth = candidates[filter.top_k - 1].0;
        end = candidates.partition_point(|&(p, _)| p >= kth);
        mass = candidates[..end].iter().map(|&(p, _)| p as f64).sum();
    } else if filter.top_k > 0 {
        mass = total;
    }
    if filter.top_p >= 1.0 {
        return Some(end);
    }
    // libtorch's rule (and Hugging Face's): keep a token while the mass of the tokens more likely than it is below
    // top_p, with the cumulative sum in f64 rounded to f32 as `cumsum` does, and the comparison in f32
    let top_p = filter.top_p as f32;
    let mut cumulative = 0.0_f64;
    let mut cutoff = None;
    for &(p, _) in &candidates[..end] {
        let q = (p as f64 / mass) as f32;
        cumulative += q as f64;
        let above = cumulative as f32 - q;
        if above >= top_p {
            break;
        }
        cutoff = Some(p);
    }
    let cutoff = cutoff?;
    // ties with the smallest kept probability are kept too
    Some(candidates[..end].partition_point(|&(p, _)| p >= cutoff))
}

/// A draw among `(probability, token)` pairs in proportion to their probabilities.
fn draw_among(tokens: impl Iterator<Item = (f32, u32)> + Clone, rng: &mut impl Rng) -> usize {
    let total: f64 = tokens.clone().map(|(p, _)| p as f64).sum();
    let mut u = rng.gen::<f64>() * total;
    let mut last = 0;
    for (p, token) in tokens {
        if p > 0.0 {
            last = token as usize;
            if u < p as f64 {
                return last;
            }
            u -= p as f64;
        }
    }
    last // rounding left `u` past the last token
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn kept(row: &[f32], top_k: usize, top_p: f64) -> Vec<i64> {
        kept_tokens(row, Filter { top_k, top_p })
    }

    #[test]
    fn nucleus_keeps_the_smallest_set_reaching_the_mass() {
        let row = [0.5f32, 0.3, 0.15, 0.05];
        assert_eq!(kept(&row, 0, 0.7), [0, 1]);
        assert_eq!(kept(&row, 0, 0.8), [0, 1]); // 0.5 + 0.3 reaches 0.8: the third is dropped
        assert_eq!(kept(&row, 0, 0.81), [0, 1, 2]);
        assert_eq!(kept(&row, 0, 0.4), [0]);
    }

    #[test]
    fn top_k_keeps_ties_with_the_kth_token_and_renormalises_for_the_nucleus() {
        let row = [0.1f32, 0.4, 0.2, 0.2, 0.1];
        assert_eq!(kept(&row, 2, 1.0), [1, 2, 3]);
        // top 1 is token 1 alone: renormalised it holds all the mass
        assert_eq!(kept(&row, 1, 0.5), [1]);
        // top 3 = {1, 2, 3} with mass 0.8; 0.4 / 0.8 = 0.5 < 0.6, so the tied 0.2s are kept too
        assert_eq!(kept(&row, 3, 0.6), [1, 2, 3]);
    }

    #[test]
    fn flat_rows_lower_the_floor_until_the_nucleus_is_held() {
        // 10,000 equal tokens: far below the first floor, the nucleus of 0.9 is every tied token
        let row = vec![1e-4f32; 10_000];
        assert_eq!(kept(&row, 0, 0.9).len(), 10_000);
        // one likely token and a flat tail
        let mut row = vec![0.5f32 / 9_999.0; 10_000];
        row[7] = 0.5;
        assert_eq!(kept(&row, 0, 0.5), [7]);
        assert_eq!(kept(&row, 0, 0.50001).len(), 10_000);
    }

    #[test]
    fn zero_probability_tokens_are_never_kept_or_drawn() {
        let row = [0.0f32, 0.6, 0.0, 0.4];
        assert_eq!(kept(&row, 0, 0.999), [1, 3]);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let draws = draw_rows(&row.repeat(1000), 4, Filter { top_k: 0, top_p: 1.0 }, &mut rng);
        assert!(draws.iter().all(|&t| t == 1 || t == 3));
    }

    #[test]
    fn draws_follow_the_kept_probabilities() {
        let row = [0.5f32, 0.3, 0.15, 0.05];
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let n = 40_000;
        let draws = draw_rows(&row.repeat(n), 4, Filter { top_k: 0, top_p: 0.81 }, &mut rng);
        let mut counts = [0usize; 4];
        draws.iter().for_each(|&t| counts[t as usize] += 1);
        assert_eq!(counts[3], 0);
        for (t, want) in [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95].into_iter().enumerate() {
            let share = counts[t] as f64 / n as f64;
            // 5 standard errors of a share near 0.5 over 40,000 draws is 0.0125
            assert!((share - want).abs() < 0.0125, "token {t}: {share} vs {want}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_draws() {
        let row = [0.25f32; 4];
        let f = Filter { top_k: 0, top_p: 0.9 };
        let a = draw_rows(&row.repeat(64), 4, f, &mut ChaCha8Rng::seed_from_u64(9));
        let b = draw_rows(&row.repeat(64), 4, f, &mut ChaCha8Rng::seed_from_u64(9));
        assert_eq!(a, b);
    }
}
