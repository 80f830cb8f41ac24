//! Offensive-language scorer: a Rust port of PyPI `alt-profanity-check` 1.9.1 (MIT), a tf-idf bag of words
//! (15,442 terms) under five sigmoid-calibrated linear SVMs — a cheap second opinion beside the toxicity
//! scorer (DESIGN: scorers).
//!
//! The model is not committed: `scripts/score/setup-offensive.sh` exports it from the package's pickles into
//! `$PHF_CACHE/scorers/alt-profanity-check-1.9.1/` (default `~/.cache/phf`), where
//! [`OffensiveScorer::load_default`] finds it.
//!
//! The score is the package's `predict_prob`, i.e. scikit-learn 1.9.1's
//! `CalibratedClassifierCV.predict_proba(TfidfVectorizer.transform(texts))[:, 1]`. With the default
//! `ensemble="auto"` (here: `True`) the classifier keeps one `(LinearSVC, sigmoid)` pair per CV fold and
//! averages their probabilities:
//!
//! ```text
//! f_k = coef_k · x + intercept_k              (LinearSVC.decision_function, x = the tf-idf row)
//! p_k = 1 / (1 + exp(a_k · f_k + b_k))        (_SigmoidCalibration.predict, Platt scaling)
//! p   = (p_1 + … + p_K) / K                   (K = 5)
//! ```

mod vectorizer;

use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};

pub use vectorizer::{TfidfVectorizer, TOKEN_PATTERN};

use crate::error::{Result, ScoreError};
use crate::scorer::{par_map_texts, Scorer, ScorerId};

/// Directory name of the export inside the cache, keyed by the package version; also the scorer's version.
pub const MODEL_DIR_NAME: &str = "alt-profanity-check-1.9.1";

/// The per-user cache directory holding the export: `$PHF_CACHE` or `$HOME/.cache/phf`, then
/// `scorers/alt-profanity-check-1.9.1`.
pub fn default_model_dir() -> PathBuf {
    crate::export::scorer_cache_dir(MODEL_DIR_NAME)
}

/// K sigmoid-calibrated linear SVMs over the same features.
#[derive(Debug, Clone)]
struct CalibratedSvms {
    /// (n_features, K): feature-major, so one sparse feature touches one contiguous row.
    coef: Vec<f64>,
    intercept: Vec<f64>,
    a: Vec<f64>,
    b: Vec<f64>,
}

impl CalibratedSvms {
    fn len(&self) -> usize {
        self.intercept.len()
    }

    /// Mean calibrated probability of the positive (offensive) class for a sparse tf-idf row.
    fn predict_prob(&self, row: &[(u32, f64)]) -> f64 {
        let k = self.len();
        let mut decision = self.intercept.clone();
        for &(j, x) in row {
            let coef = &self.coef[j as usize * k..(j as usize + 1) * k];
            for (f, c) in decision.iter_mut().zip(coef) {
                *f += x * c;
            }
        }
        let sum: f64 = decision
            .iter()
            .zip(self.a.iter().zip(&self.b))
            .map(|(f, (a, b))| 1.0 / (1.0 + (a * f + b).exp()))
            .sum();
        sum / k as f64
    }
}

/// Reads one float64 tensor of the given shape.
fn f64_tensor(st: &SafeTensors, name: &str, shape: &[usize], path: &Path) -> Result<Vec<f64>> {
    let format_err = |reason: String| ScoreError::OffensiveModelFormat {
        path: path.to_path_buf(),
        reason,
    };
    let view = st.tensor(name).map_err(|e| format_err(format!("{name}: {e}")))?;
    if view.dtype() != Dtype::F64 || view.shape() != shape {
        return Err(format_err(format!(
            "{name} is {:?} {:?}, expected F64 {shape:?}",
            view.dtype(),
            view.shape()
        )));
    }
    Ok(view
        .data()
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().expect("chunks of 8 bytes")))
        .collect())
}

/// The offensive-language scorer: vectorizer + calibrated SVMs, shared read-only across threads.
#[derive(Debug, Clone)]
pub struct OffensiveScorer {
    vectorizer: TfidfVectorizer,
    svms: CalibratedSvms,
}

impl OffensiveScorer {
    /// Loads the export in `dir`; a missing file is reported with the setup command that creates it.
    pub fn load(dir: &Path) -> Result<Self> {
        for file in ["manifest.json", "vectorizer.json", "model.safetensors"] {
            let path = dir.join(file);
            if !path.is_file() {
                return Err(ScoreError::OffensiveModelMissing {
                    dir: dir.to_path_buf(),
                    path,
                });
            }
        }
        let model_path = dir.join("model.safetensors");
        let bytes = crate::export::read_bytes(&model_path)?;
        let st = SafeTensors::deserialize(&bytes).map_err(|e| ScoreError::OffensiveModelFormat {
            path: model_path.clone(),
            reason: e.to_string(),
        })?;
        let shape_of = |name: &str| st.tensor(name).map(|v| v.shape().to_vec()).unwrap_or_default();
        let (Some(&n_features), Some(&k)) = (shape_of("idf").first(), shape_of("intercept").first()) else {
            return Err(ScoreError::OffensiveModelFormat {
                path: model_path,
                reason: "missing `idf` or `intercept`".into(),
            });
        };
        let idf = f64_tensor(&st, "idf", &[n_features], &model_path)?;
        let coef_by_classifier = f64_tensor(&st, "coef", &[k, n_features], &model_path)?;
        let mut coef = vec![0.0; n_features * k];
        for (c, row) in coef_by_classifier.chunks_exact(n_features).enumerate() {
            for (j, &w) in row.iter().enumerate() {
                coef[j * k + c] = w;
            }
        }
        let svms = CalibratedSvms {
            coef,
            intercept: f64_tensor(&st, "intercept", &[k], &model_path)?,
            a: f64_tensor(&st, "a", &[k], &model_path)?,
            b: f64_tensor(&st, "b", &[k], &model_path)?,
        };
        let vectorizer = TfidfVectorizer::load(&dir.join("vectorizer.json"), idf)?;
        Ok(Self { vectorizer, svms })
    }

    /// Loads from [`default_model_dir`].
    pub fn load_default() -> Result<Self> {
        Self::load(&default_model_dir())
    }

    /// The package's `predict_prob([text])[0]`: probability that the text is offensive, in float64.
    pub fn predict_prob(&self, text: &str) -> f64 {
        self.svms.predict_prob(&self.vectorizer.transform(text))
    }

    /// The fitted vectorizer (tokens and tf-idf rows, for inspection).
    pub fn vectorizer(&self) -> &TfidfVectorizer {
        &self.vectorizer
    }
}

impl Scorer for OffensiveScorer {
    fn id(&self) -> ScorerId {
        ScorerId {
            name: "offensive".into(),
            version: MODEL_DIR_NAME.into(),
        }
    }

    fn score_batch(&self, texts: &[&str]) -> Result<Vec<f32>> {
        Ok(par_map_texts(texts, |text| self.predict_prob(text) as f32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_export_says_how_to_fix_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = OffensiveScorer::load(dir.path()).unwrap_err();
        assert!(matches!(err, ScoreError::OffensiveModelMissing { .. }));
        assert!(err.to_string().contains("scripts/score/setup-offensive.sh"), "{err}");
    }

    #[test]
    fn corrupt_files_are_format_errors() {
        let dir = tempfile::tempdir().unwrap();
        for file in ["manifest.json", "vectorizer.json", "model.safetensors"] {
            std::fs::write(dir.path().join(file), b"not what you expect").unwrap();
        }
        let err = OffensiveScorer::load(dir.path()).unwrap_err();
        assert!(matches!(err, ScoreError::OffensiveModelFormat { .. }), "{err}");
        assert!(err.to_string().contains("setup-offensive.sh --force"), "{err}");
    }

    #[test]
    fn averages_platt_scaled_decisions() {
        // Two classifiers over two features; x = [0.6, 0.8] (an l2-normalised row).
        let svms = CalibratedSvms {
            coef: vec![1.0, -1.0, 2.0, 0.5], // feature-major: feature 0 → (1, -1), feature 1 → (2, 0.5)
            intercept: vec![0.1, -0.2],
            a: vec![-2.0, -1.0],
            b: vec![0.5, 0.0],
        };
        let f = [0.1 + 0.6 + 1.6, -0.2 - 0.6 + 0.4];
        let want = (1.0 / (1.0 + (-2.0 * f[0] + 0.5_f64).exp()) + 1.0 / (1.0 + (-f[1]).exp())) / 2.0;
        let got = svms.predict_prob(&[(0, 0.6), (1, 0.8)]);
        assert!((got - want).abs() < 1e-15, "{got} vs {want}");
    }
}
