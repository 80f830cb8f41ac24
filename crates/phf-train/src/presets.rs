//! Preset configs: `phf train --task toxicity --objective awr --scale small` merges
//! `configs/tasks/toxicity.toml`, `configs/objectives/awr.toml` (its generic sections, then its `[toxicity.*]`
//! tables: the paper's per-task values), and `configs/scales/small.toml`, later files overriding earlier ones
//! key by key, and `--set` overrides last. Data paths in presets are relative to the working directory.

use std::path::{Path, PathBuf};

use crate::config::{last_override, sets_soft_mode, ConfigError, TrainConfig};

/// Which presets to merge.
pub struct Presets<'a> {
    /// The folder holding `tasks/`, `objectives/` and `scales/`.
    pub root: &'a Path,
    pub task: &'a str,
    pub objective: &'a str,
    pub scale: &'a str,
}

impl Presets<'_> {
    pub fn load(&self, overrides: &[String]) -> Result<TrainConfig, ConfigError> {
        let tasks = names(&self.root.join("tasks"))?;
        let task = self.read("tasks", self.task)?;
        let mut objective = self.read("objectives", self.objective)?;
        let scale = self.read("scales", self.scale)?;
        // the objective file's per-task tables apply only to the chosen task
        let objective_table = objective.as_table_mut().expect("a TOML document is a table");
        let per_task = objective_table.remove(self.task);
        for other in &tasks {
            objective_table.remove(other);
        }
        let mut merged = toml::Value::Table(toml::Table::new());
        for layer in [Some(task), Some(objective), per_task, Some(scale)]
            .into_iter()
            .flatten()
        {
            merge(&mut merged, layer);
        }
        // `--set objective.mode=soft` turns a preset's hard unlikelihood into the threshold-free weight: the
        // preset's threshold goes with it (one given with --set stays, and is refused)
        if sets_soft_mode(overrides) && last_override(overrides, "objective.threshold").is_none() {
            if let Some(objective) = merged.get_mut("objective").and_then(toml::Value::as_table_mut) {
                objective.remove("threshold");
            }
        }
        let origin = PathBuf::from(format!("presets {}/{}/{}", self.task, self.objective, self.scale));
        TrainConfig::from_value(merged, overrides, &origin)
    }

    fn read(&self, kind: &str, name: &str) -> Result<toml::Value, ConfigError> {
        let dir = self.root.join(kind);
        let path = dir.join(format!("{name}.toml"));
        if !path.is_file() {
            let known = names(&dir)?;
            return Err(ConfigError::File {
                path,
                message: format!("no such preset `{name}`; {kind} available: {}", known.join(", ")),
            });
        }
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::File {
            path: path.clone(),
            message: e.to_string(),
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::File {
            path,
            message: e.to_string(),
        })
    }
}

/// The preset names (file stems) in a folder, sorted.
fn names(dir: &Path) -> Result<Vec<String>, ConfigError> {
    let entries = std::fs::read_dir(dir).map_err(|e| ConfigError::File {
        path: dir.to_path_buf(),
        message: format!("{e}: pass --configs <folder with tasks/, objectives/ and scales/>"),
    })?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.path().file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    Ok(names)
}

/// Deep-merges `layer` into `base`: tables merge key by key, anything else is replaced.
fn merge(base: &mut toml::Value, layer: toml::Value) {
    match (base, layer) {
        (toml::Value::Table(base), toml::Value::Table(layer)) => {
            for (key, value) in layer {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, layer) => *base = layer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_configs() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs")
    }

    fn load(task: &str, objective: &str, scale: &str) -> Result<TrainConfig, ConfigError> {
        Presets {
            root: &repo_configs(),
            task,
            objective,
            scale,
        }
        .load(&[])
    }

    #[test]
    fn soft_mode_set_over_a_hard_preset_drops_the_presets_threshold() {
        let with = |overrides: &[&str]| {
            let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
            Presets {
                root: &repo_configs(),
                task: "toxicity",
                objective: "unlikelihood",
                scale: "small",
            }
            .load(&overrides)
        };
        assert!(
            with(&[]).unwrap().objective.threshold.is_some(),
            "toxicity's preset is hard"
        );
        let soft: [&[&str]; 3] = [
            &["objective.mode=soft"],
            &["objective.mode='soft'"],
            &["objective.mode=hard", "objective.mode=soft"],
        ];
        for sets in soft {
            let config = with(sets).unwrap();
            assert_eq!(config.objective.mode.as_deref(), Some("soft"), "{sets:?}");
            assert_eq!(config.objective.threshold, None, "{sets:?}");
        }
        let hard = with(&["objective.mode=soft", "objective.mode=hard"]).unwrap();
        assert!(hard.objective.threshold.is_some(), "the last --set wins");
        let err = with(&["objective.mode=soft", "objective.threshold=0.1"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("uses a = 1 - s and no threshold"), "{err}");
    }

    #[test]
    fn paper_scale_keeps_the_papers_per_task_values() {
        let awr = load("toxicity", "awr", "gpt2").unwrap();
        assert_eq!((awr.objective.alpha, awr.objective.beta), (Some(0.5), Some(10.0)));
        assert_eq!(awr.optimizer.lr, 1e-3);
        assert_eq!(awr.training.batch_size * awr.training.grad_accum, 1024);
        assert_eq!(awr.model.preset, "gpt2");
        let pii = load("pii", "awr", "gpt2").unwrap();
        assert_eq!((pii.objective.beta, pii.optimizer.lr), (Some(0.1), 5e-4));
        assert_eq!(pii.training.batch_size * pii.training.grad_accum, 64);
        let pep8 = load("pep8", "unlikelihood", "gpt2").unwrap();
        assert_eq!(
            (pep8.objective.mode.as_deref(), pep8.objective.alpha),
            (Some("soft"), Some(0.01))
        );
        assert_eq!(load("pep8", "mle", "gpt2").unwrap().optimizer.lr, 8e-4);
        let cond = load("pii", "conditional", "small").unwrap();
        assert!(cond.data.train.ends_with("data/pii/conditional/train"));
    }

    #[test]
    fn every_combination_of_presets_is_a_valid_config() {
        for task in ["toxicity", "pii", "pep8"] {
            for objective in ["mle", "filtering", "conditional", "unlikelihood", "rwr", "awr"] {
                for scale in ["tiny", "small", "gpt2"] {
                    let c = load(task, objective, scale).unwrap_or_else(|e| panic!("{task}/{objective}/{scale}: {e}"));
                    assert_eq!(c.objective.name, objective);
                }
            }
        }
    }

    #[test]
    fn unknown_presets_list_the_available_ones() {
        let err = load("toxicity", "ppo", "small").unwrap_err().to_string();
        assert!(err.contains("`ppo`") && err.contains("awr, conditional"), "{err}");
    }

    #[test]
    fn set_overrides_come_last() {
        let o = vec!["optimizer.lr=1e-2".to_string()];
        let c = Presets {
            root: &repo_configs(),
            task: "toxicity",
            objective: "awr",
            scale: "small",
        }
        .load(&o)
        .unwrap();
        assert_eq!(c.optimizer.lr, 1e-2);
    }
}
