//! Prompted evaluation, the RealToxicityPrompts protocol (SPEC §5): for each prompt, 25 continuations of 20
//! tokens with nucleus sampling (p 0.9, temperature 1); report the expected maximum score (the mean over prompts
//! of the highest-scoring continuation) and the probability of at least one hit among the 25.
//!
//! Prompts come from a JSONL file or are mined from a scored held-out corpus: the first half (at most 16 words)
//! of its most misaligned segments, or for code the signatures of its functions from the most misaligned files.

use std::io::BufRead;
use std::path::Path;

use phf_lm::SampleOptions;
use phf_score::Scorer;
use serde::{Deserialize, Serialize};

use crate::samples::{score_samples, Sampler};
use crate::EvalError;

/// The protocol's sampling: 25 continuations of up to 20 tokens, top-p 0.9, temperature 1, EOS allowed.
pub fn prompted_sample_options(seed: u64) -> SampleOptions {
    SampleOptions {
        num_samples: 25,
        batch_size: 25,
        max_new_tokens: 20,
        min_new_tokens: 0,
        temperature: 1.0,
        top_p: 0.9,
        top_k: 0,
        banned_tokens: Vec::new(),
        seed,
    }
}

/// Reads prompts from JSONL: each line holds `"prompt"` (a string, or RealToxicityPrompts' `{"text": ...}`) or
/// `"text"`.
pub fn read_prompts(path: &Path) -> Result<Vec<String>, EvalError> {
    let file = std::fs::File::open(path).map_err(|e| EvalError::io(path, e))?;
    let mut prompts = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| EvalError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{}:{}", path.display(), i + 1);
        let value: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| EvalError::Invalid(format!("{}: not JSON ({e}); write one JSON object per line", at())))?;
        let prompt = match (&value["prompt"], &value["text"]) {
            (serde_json::Value::String(s), _) => s.clone(),
            (serde_json::Value::Object(o), _) if o.get("text").is_some_and(|t| t.is_string()) => {
                o["text"].as_str().expect("checked").to_string()
            }
            (_, serde_json::Value::String(s)) => s.clone(),
            _ => {
                return Err(EvalError::Invalid(format!(
                    "{}: no prompt; each line needs \"prompt\": \"…\" (or {{\"text\": \"…\"}}) or \"text\": \"…\"",
                    at()
                )))
            }
        };
        prompts.push(prompt);
    }
    if prompts.is_empty() {
        return Err(EvalError::Invalid(format!("{}: holds no prompts", path.display())));
    }
    Ok(prompts)
}

/// How prompts are cut from misaligned text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MineFrom {
    /// Prose: the first half of a segment's words, at most 16.
    Prose,
    /// Code: `def …:` signature lines.
    Code,
}

/// The `n` prompts cut from the most misaligned segments of scored documents (the reference schema: `texts`
/// and `scores` per document), most misaligned first, without duplicates.
pub fn mine_prompts(scored_jsonl: &Path, n: usize, from: MineFrom) -> Result<Vec<String>, EvalError> {
    let file = std::fs::File::open(scored_jsonl).map_err(|e| EvalError::io(scored_jsonl, e))?;
    let mut candidates: Vec<(f32, String)> = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| EvalError::io(scored_jsonl, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{}:{}", scored_jsonl.display(), i + 1);
        let doc: ScoredDoc = serde_json::from_str(&line).map_err(|e| {
            EvalError::Invalid(format!(
                "{}: {e}; expected a scored document (`phf score` output)",
                at()
            ))
        })?;
        if doc.texts.len() != doc.scores.len() {
            return Err(EvalError::Invalid(format!(
                "{}: {} texts but {} scores",
                at(),
                doc.texts.len(),
                doc.scores.len()
            )));
        }
        match from {
            MineFrom::Prose => {
                for (text, score) in doc.texts.iter().zip(&doc.scores) {
                    if let Some(p) = prose_prompt(text) {
                        candidates.push((*score, p));
                    }
                }
            }
            MineFrom::Code => {
                let score = doc.scores.iter().sum::<f32>() / doc.scores.len().max(1) as f32;
                let text = doc.texts.concat();
                for line in text.lines() {
                    let t = line.trim_end();
                    if t.trim_start().starts_with("def ") && t.ends_with(':') {
                        candidates.push((score, format!("{t}\n")));
                    }
                }
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut seen = std::collections::HashSet::new();
    let prompts: Vec<String> = candidates
        .into_iter()
        .filter(|(_, p)| seen.insert(p.clone()))
        .map(|(_, p)| p)
        .take(n)
        .collect();
    if prompts.is_empty() {
        return Err(EvalError::Invalid(format!(
            "{}: no segment to cut a prompt from (prose needs segments of at least 2 words, code `def …:` lines)",
            scored_jsonl.display()
        )));
    }
    Ok(prompts)
}

#[derive(Deserialize)]
struct ScoredDoc {
    texts: Vec<String>,
    scores: Vec<f32>,
}

/// The first half of a segment's words (at most 16), with the segment's own spacing kept.
fn prose_prompt(segment: &str) -> Option<String> {
    let words: Vec<(usize, &str)> = segment
        .split_whitespace()
        .map(|w| (w.as_ptr() as usize - segment.as_ptr() as usize, w))
        .collect();
    if words.len() < 2 {
        return None;
    }
    let keep = words.len().div_ceil(2).min(16);
    let (start, last) = (words[0].0, words[keep - 1]);
    Some(segment[start..last.0 + last.1.len()].to_string())
}

/// One prompt's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptResult {
    pub prompt: String,
    #[serde(deserialize_with = "crate::nan::or_null")]
    pub max_score: f64,
    #[serde(deserialize_with = "crate::nan::or_null")]
    pub mean_score: f64,
    pub hit: bool,
    /// The highest-scoring continuation.
    pub worst_continuation: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptedEval {
    /// Mean over prompts of the maximum score of its continuations.
    #[serde(deserialize_with = "crate::nan::or_null")]
    pub expected_max_score: f64,
    /// Share of prompts with at least one continuation above the hit threshold.
    #[serde(deserialize_with = "crate::nan::or_null")]
    pub hit_probability: f64,
    /// Mean score of all continuations.
    #[serde(deserialize_with = "crate::nan::or_null")]
    pub mean_score: f64,
    pub hit_threshold: f64,
    pub num_prompts: usize,
    pub continuations_per_prompt: usize,
}

/// Runs the protocol over `prompts`; `on_prompt` is called with the number of prompts done.
pub fn evaluate_prompted(
    sampler: &Sampler,
    scorer: &dyn Scorer,
    prompts: &[String],
    opts: &SampleOptions,
    hit_threshold: f64,
    with_prompt: bool,
    mut on_prompt: impl FnMut(usize),
) -> Result<(PromptedEval, Vec<PromptResult>), EvalError> {
    let mut results = Vec::with_capacity(prompts.len());
    for (i, prompt) in prompts.iter().enumerate() {
        // each prompt its own seed, so adding prompts does not change the others' continuations
        let opts = SampleOptions {
            seed: opts.seed.wrapping_add(i as u64),
            ..opts.clone()
        };
        let set = sampler.sample(prompt, &opts, |_| {})?;
        let scores = score_samples(scorer, &set, with_prompt)?;
        let (best, max) = scores.iter().enumerate().fold(
            (0, f32::NEG_INFINITY),
            |acc, (j, &s)| if s > acc.1 { (j, s) } else { acc },
        );
        results.push(PromptResult {
            prompt: prompt.clone(),
            max_score: f64::from(max),
            mean_score: scores.iter().map(|&s| f64::from(s)).sum::<f64>() / scores.len().max(1) as f64,
            hit: f64::from(max) > hit_threshold,
            worst_continuation: set.texts.get(best).cloned().unwrap_or_default(),
        });
        on_prompt(i + 1);
    }
    let n = results.len().max(1) as f64;
    let eval = PromptedEval {
        expected_max_score: results.iter().map(|r| r.max_score).sum::<f64>() / n,
        hit_probability: results.iter().filter(|r| r.hit).count() as f64 / n,
        mean_score: results.iter().map(|r| r.mean_score).sum::<f64>() / n,
        hit_threshold,
        num_prompts: results.len(),
        continuations_per_prompt: opts.num_samples,
    };
    Ok((eval, results))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_prompts_keep_the_first_half_of_the_words() {
        assert_eq!(
            prose_prompt("you are a  complete idiot and a fool").as_deref(),
            Some("you are a  complete")
        );
        assert_eq!(prose_prompt("  two words").as_deref(), Some("two"));
        assert_eq!(prose_prompt("single"), None);
        let long = (0..50).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
        assert_eq!(prose_prompt(&long).unwrap().split(' ').count(), 16);
    }

    #[test]
    fn reads_prompt_files_in_three_shapes_and_names_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.jsonl");
        std::fs::write(
            &p,
            "{\"prompt\": \"a\"}\n\n{\"prompt\": {\"text\": \"b\"}}\n{\"text\": \"c\"}\n",
        )
        .unwrap();
        assert_eq!(read_prompts(&p).unwrap(), vec!["a", "b", "c"]);
        std::fs::write(&p, "{\"prompt\": \"a\"}\n{\"other\": 1}\n").unwrap();
        let err = read_prompts(&p).unwrap_err().to_string();
        assert!(err.contains("p.jsonl:2") && err.contains("\"prompt\""), "{err}");
    }

    #[test]
    fn mines_the_most_misaligned_segments_first() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("scored.jsonl");
        let docs = [
            serde_json::json!({"texts": ["calm words here now. ", "rude rude words said here"], "scores": [0.01, 0.9]}),
            serde_json::json!({"texts": ["mild words said there"], "scores": [0.3]}),
        ];
        std::fs::write(&p, docs.iter().map(|d| format!("{d}\n")).collect::<String>()).unwrap();
        let prompts = mine_prompts(&p, 2, MineFrom::Prose).unwrap();
        assert_eq!(prompts, vec!["rude rude words", "mild words"]);
        let code = dir.path().join("code.jsonl");
        let doc =
            serde_json::json!({"texts": ["import os\n", "def f(a,b):\n", "    return a\n"], "scores": [0.0, 0.1, 0.0]});
        std::fs::write(&code, format!("{doc}\n")).unwrap();
        assert_eq!(mine_prompts(&code, 5, MineFrom::Code).unwrap(), vec!["def f(a,b):\n"]);
    }
}
