//! Which files to read: the user's inputs expanded into files with a format, in a deterministic order.

use std::path::{Path, PathBuf};

use crate::error::{DataError, Result};
use crate::mail;

/// How one input file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// One JSON object per line (reference schema or `{"text", "score"}`).
    Jsonl,
    /// The whole file is one document of one segment, score 0.
    Text,
    /// One email of the npm SpamAssassin package (see [`crate::mail`]).
    SpamAssassin,
}

/// One file to read, with its format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    pub path: PathBuf,
    pub format: InputFormat,
}

/// Expands the user's inputs into the files to read, in a deterministic order: inputs in the order given, each
/// directory's files sorted by path.
///
/// A file must end in `.jsonl`, `.ndjson`, `.json` (read as JSON lines) or `.txt`. A directory is either the npm
/// SpamAssassin package (recognised by its `file_list.json`) or any folder, searched recursively for
/// `.jsonl`/`.txt` files.
pub fn resolve_inputs(inputs: &[PathBuf]) -> Result<Vec<InputFile>> {
    let mut files = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|e| DataError::io(input, e))?;
        if meta.is_dir() {
            files.extend(resolve_dir(input)?);
        } else {
            let format = format_of(input).ok_or_else(|| DataError::Input {
                path: input.clone(),
                msg: "unsupported file type: pass a .jsonl (reference schema), .txt (raw text) file or a \
                      directory of them"
                    .into(),
            })?;
            files.push(InputFile {
                path: input.clone(),
                format,
            });
        }
    }
    Ok(files)
}

fn format_of(path: &Path) -> Option<InputFormat> {
    match path.extension()?.to_str()? {
        "jsonl" | "ndjson" | "json" => Some(InputFormat::Jsonl),
        "txt" => Some(InputFormat::Text),
        _ => None,
    }
}

fn resolve_dir(dir: &Path) -> Result<Vec<InputFile>> {
    if let Some(data_dir) = mail::find_data_dir(dir) {
        let emails = mail::list_emails(&data_dir)?;
        return Ok(emails
            .into_iter()
            .map(|path| InputFile {
                path,
                format: InputFormat::SpamAssassin,
            })
            .collect());
    }
    let mut paths = Vec::new();
    walk(dir, &mut paths)?;
    paths.sort();
    if paths.is_empty() {
        return Err(DataError::Input {
            path: dir.to_path_buf(),
            msg: "no .jsonl or .txt files in this directory (searched recursively)".into(),
        });
    }
    Ok(paths
        .into_iter()
        .filter_map(|path| format_of(&path).map(|format| InputFile { path, format }))
        .collect())
}

/// Collects `.jsonl`/`.txt` files under `dir`. Symlinked directories are not followed (no cycles); hidden entries
/// (`.git`, editor swap files) are ignored.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))? {
        let entry = entry.map_err(|e| DataError::io(dir, e))?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let file_type = entry.file_type().map_err(|e| DataError::io(&path, e))?;
        if file_type.is_dir() {
            walk(&path, out)?;
        } else if (file_type.is_file() || path.is_file())
            && matches!(path.extension().and_then(|e| e.to_str()), Some("jsonl" | "txt"))
        {
            out.push(path);
        }
    }
    Ok(())
}
