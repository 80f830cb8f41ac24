//! spaCy's `TransitionBasedParser.v2` in its NER configuration, greedy decoding: the state is described by three
//! tokens (the front of the buffer, the open entity's first token, the token before the front), whose hidden-layer
//! contributions are computed once per token (`PrecomputableAffine`: the front's for every token, the other two
//! for the tokens of entities when first needed); per step the three are summed with the bias, reduced by maxout,
//! scored by the output layer, and the best valid move is taken.

use super::buffer::Buffer;
use super::moves::{Move, State};
use super::vector;
use super::weights::{Dense, Weights};
use crate::error::Result;

/// State features: front of the buffer, first token of the open entity, token before the front.
const FEATURES: usize = 3;
/// Hidden width of the parser (`hidden_width` in the model config).
pub const HIDDEN: usize = 64;
/// Maxout pieces of the hidden layer.
const PIECES: usize = 2;

/// The parser's lower (precomputable) and upper layers.
#[derive(Debug, Clone)]
pub struct Parser {
    hidden: usize,
    /// The lower layer's outputs for the first feature (front of the buffer), `hidden · PIECES` per token vector:
    /// every token is the front once.
    lower_front: Dense,
    /// Its outputs for the other two features, `2 · hidden · PIECES` per token vector. They are only asked of the
    /// tokens of entities, so they are computed when first asked.
    lower_rest: Dense,
    lower_bias: Vec<f32>,
    /// The lower layer's output for an absent feature token, `(FEATURES, hidden, PIECES)`.
    padding: Vec<f32>,
    upper: Dense,
    /// Classes never seen in training score the minimum of the step, as spaCy does.
    unseen: Vec<bool>,
}

impl Parser {
    pub fn load(w: &Weights<'_>, hidden: usize, n_moves: usize, unseen: &[usize]) -> Result<Self> {
        let lower_w = w.tensor("lower.W", &[FEATURES, hidden, PIECES, hidden])?;
        let mut upper_w = w.tensor("upper.W", &[n_moves, hidden])?;
        let mut upper_b = w.tensor("upper.b", &[n_moves])?;
        // Zero rows up to a multiple of 32 outputs let the SIMD kernels take the output layer too; the extra
        // scores are never read.
        let padded = n_moves.div_ceil(32) * 32;
        upper_w.resize(padded * hidden, 0.0);
        upper_b.resize(padded, 0.0);
        let mut is_unseen = vec![false; n_moves];
        for &c in unseen {
            if let Some(u) = is_unseen.get_mut(c) {
                *u = true;
            }
        }
        // One feature's outputs per token vector; the weight is feature-major, so its first block is the front's.
        let block = hidden * PIECES;
        let (front_w, rest_w) = lower_w.split_at(block * hidden);
        Ok(Self {
            hidden,
            lower_front: Dense::from_output_major(front_w, vec![0.0; block], block, hidden),
            lower_rest: Dense::from_output_major(rest_w, vec![0.0; 2 * block], 2 * block, hidden),
            lower_bias: w.tensor("lower.b", &[hidden, PIECES])?,
            padding: w.tensor("lower.pad", &[1, FEATURES, hidden, PIECES])?,
            upper: Dense::from_output_major(&upper_w, upper_b, padded, hidden),
            unseen: is_unseen,
        })
    }

    /// Greedy BILUO decoding of one document from its token vectors (`tokens × hidden`). Returns the entities as
    /// (first token, end token, label index).
    pub fn parse(&self, tokvecs: &[f32], is_space: &[bool], moves: &[Move]) -> Vec<(usize, usize, usize)> {
        let n = is_space.len();
        let block = self.hidden * PIECES;
        let mut front_part = Buffer::new(n * block);
        self.lower_front.forward(tokvecs, &mut front_part);
        let mut rest_part = Buffer::new(n * 2 * block);
        let mut has_rest = vec![false; n];
        let mut state = State {
            next: 0,
            len: n,
            open: None,
        };
        let mut summed = vec![0.0; self.hidden * PIECES];
        let mut hidden = vec![0.0; self.hidden];
        let mut padded_scores = vec![0.0; self.upper.n_out];
        let mut entities = Vec::new();
        while state.next < n {
            let front = state.next;
            let first = state.open.map(|(start, _)| start);
            let before = first.and(front.checked_sub(1));
            summed.copy_from_slice(&self.lower_bias);
            vector::add_assign(&mut summed, &front_part[front * block..(front + 1) * block]);
            for (f, token) in [(1, first), (2, before)] {
                let part = match token {
                    Some(t) => {
                        let rest = &mut rest_part[t * 2 * block..(t + 1) * 2 * block];
                        if !has_rest[t] {
                            self.lower_rest
                                .forward(&tokvecs[t * self.hidden..(t + 1) * self.hidden], rest);
                            has_rest[t] = true;
                        }
                        &rest[(f - 1) * block..f * block]
                    }
                    None => &self.padding[f * block..(f + 1) * block],
                };
                vector::add_assign(&mut summed, part);
            }
            for (h, p) in hidden.iter_mut().zip(summed.chunks_exact(PIECES)) {
                *h = p.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            }
            self.upper.forward(&hidden, &mut padded_scores);
            let scores = &mut padded_scores[..moves.len()];
            if self.unseen.iter().any(|&u| u) {
                let min = scores.iter().copied().fold(f32::INFINITY, f32::min);
                for (s, &u) in scores.iter_mut().zip(&self.unseen) {
                    if u {
                        *s = min;
                    }
                }
            }
            let mut best: Option<usize> = None;
            for (i, m) in moves.iter().enumerate() {
                if m.is_valid(&state, is_space[front]) && best.is_none_or(|b| scores[i] > scores[b]) {
                    best = Some(i);
                }
            }
            // `O` is valid whenever no entity is open and `L` whenever one is, so a move always exists.
            let Some(best) = best else { break };
            let chosen = moves[best];
            use super::moves::Action;
            match (chosen.action, chosen.label) {
                (Action::Begin, Some(l)) => state.open = Some((front, l)),
                (Action::Last, Some(l)) => {
                    let start = state.open.map_or(front, |(s, _)| s);
                    entities.push((start, front + 1, l));
                    state.open = None;
                }
                (Action::Unit, Some(l)) => entities.push((front, front + 1, l)),
                _ => {}
            }
            state.next += 1;
        }
        entities
    }
}
