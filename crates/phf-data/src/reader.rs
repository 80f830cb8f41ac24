//! The corpus reader: a streaming iterator of scored documents over JSONL, text and mail inputs.
//!
//! Files are read as bytes, line by line, so a multi-GB JSONL never sits in memory and every error can name its
//! `file:line` (see [`crate::jsonl`] for the record schema, [`crate::inputs`] for which files are read).
//! Documents with nothing to train on are skipped and counted, not treated as errors.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::document::Document;
use crate::error::{DataError, Result};
use crate::inputs::{resolve_inputs, InputFile, InputFormat};
use crate::jsonl::parse_record;
use crate::mail;

/// What the reader has seen so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReadStats {
    /// Files opened.
    pub files: u64,
    /// Bytes read from them.
    pub bytes_read: u64,
    /// Documents yielded.
    pub documents: u64,
    /// Documents skipped (empty, or rejected by the mail rules).
    pub skipped: u64,
    /// `skipped`, split by reason (`empty`, `mail-html`, `mail-binary`, `mail-short`).
    pub skipped_by_reason: BTreeMap<String, u64>,
}

impl ReadStats {
    fn skip(&mut self, reason: &str) {
        self.skipped += 1;
        *self.skipped_by_reason.entry(reason.to_string()).or_default() += 1;
    }
}

/// A streaming iterator over the documents of many inputs; see the module docs.
///
/// Yields `Err` on the first bad record; callers are expected to stop there.
pub struct CorpusReader {
    files: Vec<InputFile>,
    next_file: usize,
    current: Option<JsonlFile>,
    stats: ReadStats,
    /// Attributes every document must have `scores_<name>` for (see [`CorpusReader::require_attributes`]).
    required_attributes: Vec<String>,
}

/// The JSONL file being read.
struct JsonlFile {
    path: PathBuf,
    reader: BufReader<File>,
    line: u64,
    buf: Vec<u8>,
}

impl CorpusReader {
    /// Resolves `inputs` (see [`resolve_inputs`]) and prepares to read them; opens nothing yet.
    pub fn open(inputs: &[PathBuf]) -> Result<Self> {
        Ok(Self::from_files(resolve_inputs(inputs)?))
    }

    /// Reads exactly these files, in this order.
    pub fn from_files(files: Vec<InputFile>) -> Self {
        CorpusReader {
            files,
            next_file: 0,
            current: None,
            stats: ReadStats::default(),
            required_attributes: Vec::new(),
        }
    }

    /// Makes a document without `scores_<name>` for one of `names` an error naming its `file:line` (multi-attribute
    /// conditioning, [`crate::transform`]).
    pub fn require_attributes(mut self, names: &[String]) -> Self {
        self.required_attributes = names.to_vec();
        self
    }

    /// The files this reader will read.
    pub fn files(&self) -> &[InputFile] {
        &self.files
    }

    /// Counts so far (complete once the iterator is exhausted).
    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    /// Reads the next JSONL record of the current file; `None` at its end.
    fn next_jsonl(&mut self) -> Option<Result<Document>> {
        let file = self.current.as_mut()?;
        loop {
            file.buf.clear();
            let n = match file.reader.read_until(b'\n', &mut file.buf) {
                Ok(n) => n,
                Err(e) => return Some(Err(DataError::io(&file.path, e))),
            };
            if n == 0 {
                self.current = None;
                return None;
            }
            file.line += 1;
            self.stats.bytes_read += n as u64;
            let line = match std::str::from_utf8(&file.buf) {
                Ok(line) => line,
                Err(e) => {
                    return Some(Err(DataError::Utf8 {
                        path: file.path.clone(),
                        line: file.line,
                        column: e.valid_up_to() + 1,
                    }))
                }
            };
            match parse_record(&file.path, file.line, line) {
                Ok(None) => continue,
                Ok(Some(doc)) if doc.is_empty() => self.stats.skip("empty"),
                Ok(Some(doc)) => {
                    if let Some(name) = missing_attribute(&self.required_attributes, &doc) {
                        return Some(Err(DataError::Schema {
                            path: file.path.clone(),
                            line: file.line,
                            msg: format!(
                                "missing `scores_{name}`: attribute `{name}` needs one score per segment in every \
                                 record (score the corpus for it, or drop it from --attributes)"
                            ),
                        }));
                    }
                    return Some(Ok(doc));
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// Opens the next file; returns a document when the file is a one-document format.
    fn open_next(&mut self, input: InputFile) -> Result<Option<Document>> {
        self.stats.files += 1;
        let path = input.path;
        match input.format {
            InputFormat::Jsonl => {
                let file = File::open(&path).map_err(|e| DataError::io(&path, e))?;
                self.current = Some(JsonlFile {
                    path,
                    reader: BufReader::with_capacity(1 << 20, file),
                    line: 0,
                    buf: Vec::new(),
                });
                Ok(None)
            }
            InputFormat::Text => {
                let bytes = std::fs::read(&path).map_err(|e| DataError::io(&path, e))?;
                self.stats.bytes_read += bytes.len() as u64;
                let text = utf8_with_position(&path, bytes)?;
                let doc = Document::single(text, 0.0).with_source(path.display().to_string());
                Ok(Some(doc))
            }
            InputFormat::SpamAssassin => {
                self.stats.bytes_read += std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                match mail::read_email(&path)? {
                    Ok(doc) => Ok(Some(doc)),
                    Err(skip) => {
                        self.stats.skip(&skip.to_string());
                        Ok(None)
                    }
                }
            }
        }
    }
}

impl Iterator for CorpusReader {
    type Item = Result<Document>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.current.is_some() {
                match self.next_jsonl() {
                    Some(Ok(doc)) => {
                        self.stats.documents += 1;
                        return Some(Ok(doc));
                    }
                    Some(Err(e)) => return Some(Err(e)),
                    None => continue,
                }
            }
            let input = self.files.get(self.next_file)?.clone();
            self.next_file += 1;
            let input_path = input.path.clone();
            match self.open_next(input) {
                Ok(Some(doc)) if doc.is_empty() => self.stats.skip("empty"),
                Ok(Some(doc)) => {
                    if let Some(name) = missing_attribute(&self.required_attributes, &doc) {
                        return Some(Err(DataError::Input {
                            path: input_path,
                            msg: format!(
                                "has no `scores_{name}`: attribute `{name}` needs JSONL input in the reference \
                                 schema with a `scores_{name}` list"
                            ),
                        }));
                    }
                    self.stats.documents += 1;
                    return Some(Ok(doc));
                }
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// The first of `required` attributes that `doc` has no scores for.
fn missing_attribute<'a>(required: &'a [String], doc: &Document) -> Option<&'a str> {
    required
        .iter()
        .find(|name| !doc.attribute_scores.contains_key(name.as_str()))
        .map(String::as_str)
}

/// Decodes a whole file as UTF-8, reporting the line and column of the first bad byte.
fn utf8_with_position(path: &Path, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        DataError::Utf8 {
            path: path.to_path_buf(),
            line,
            column: valid.len() - line_start + 1,
        }
    })
}
#[cfg(test)]
#[path = "reader_tests.rs"]
mod tests;
