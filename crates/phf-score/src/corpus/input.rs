//! Reading a corpus: the user's paths become sources in a fixed order, read line by line, one shard kept.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::error::{CorpusError, Origin, Result};
use super::Shard;

/// How a source holds its documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// One JSON object per line with a `text` field (blank lines are skipped and not counted).
    Jsonl,
    /// The whole file is one document.
    Text,
}

/// One input to read: a file, or standard input when `stdin` is set (always JSONL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub path: PathBuf,
    pub format: SourceFormat,
    pub stdin: bool,
}

/// Name used for standard input in messages and provenance.
const STDIN_NAME: &str = "<stdin>";

/// Expands the user's inputs into sources: inputs in the order given; a directory's `.jsonl`/`.txt` files
/// (searched recursively, hidden entries skipped) sorted by path; `-` for JSONL on standard input (at most once).
/// A file must end in `.jsonl`, `.ndjson`, `.json` (JSON lines) or `.txt`, as for `phf prepare`.
pub fn resolve_inputs(inputs: &[PathBuf]) -> Result<Vec<Source>> {
    let mut sources = Vec::new();
    for input in inputs {
        if input.as_os_str() == "-" {
            if sources.iter().any(|s: &Source| s.stdin) {
                return Err(input_error(input, "standard input (`-`) can be given only once"));
            }
            sources.push(Source {
                path: PathBuf::from(STDIN_NAME),
                format: SourceFormat::Jsonl,
                stdin: true,
            });
            continue;
        }
        let meta = std::fs::metadata(input).map_err(|source| CorpusError::Io {
            path: input.clone(),
            source,
        })?;
        if meta.is_dir() {
            let mut paths = Vec::new();
            walk(input, &mut paths)?;
            if paths.is_empty() {
                return Err(input_error(
                    input,
                    "no .jsonl or .txt files in this directory (searched recursively)",
                ));
            }
            paths.sort();
            sources.extend(paths.into_iter().filter_map(|path| file_source(&path)));
        } else {
            sources.push(file_source(input).ok_or_else(|| {
                input_error(
                    input,
                    "unsupported file type: pass a .jsonl file (one {\"text\": ...} object per line), a .txt \
                     file (one document), a directory of them, or `-` for JSON lines on standard input",
                )
            })?);
        }
    }
    Ok(sources)
}

fn input_error(path: &Path, msg: &str) -> CorpusError {
    CorpusError::Input {
        path: path.to_path_buf(),
        msg: msg.into(),
    }
}

fn file_source(path: &Path) -> Option<Source> {
    let format = match path.extension()?.to_str()? {
        "jsonl" | "ndjson" | "json" => SourceFormat::Jsonl,
        "txt" => SourceFormat::Text,
        _ => return None,
    };
    Some(Source {
        path: path.to_path_buf(),
        format,
        stdin: false,
    })
}

/// Collects `.jsonl`/`.txt` files under `dir`; symlinked directories are not followed, hidden entries
/// (`.git`, editor swap files, a half-written `phf score` output) are skipped.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let io = |path: &Path, source| CorpusError::Io {
        path: path.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let entry = entry.map_err(|e| io(dir, e))?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let file_type = entry.file_type().map_err(|e| io(&path, e))?;
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

/// One document of this shard, still unparsed (parsing happens in parallel, see [`super::score_documents`]).
#[derive(Debug, Clone)]
pub struct RawDocument {
    pub origin: Origin,
    pub format: SourceFormat,
    /// The JSONL line (terminator stripped) or the whole `.txt` file.
    pub bytes: Vec<u8>,
    /// Position of the document in the whole corpus (0-based, all shards).
    pub index: u64,
}

/// The source being read now.
struct Open {
    source: Source,
    reader: Box<dyn BufRead + Send>,
    line: u64,
}

/// Reads the documents of one shard from sources in order, one line at a time: memory holds one line, never a
/// file. Documents of other shards are read past without being parsed (`.txt` files of other shards are not
/// even opened).
pub struct CorpusReader {
    sources: std::vec::IntoIter<Source>,
    open: Option<Open>,
    shard: Shard,
    documents_seen: u64,
    bytes_read: u64,
    total_bytes: Option<u64>,
    line_buf: Vec<u8>,
}

/// Read buffer per source: large sequential reads for multi-GB files.
const READ_BUFFER: usize = 1 << 20;

impl CorpusReader {
    pub fn new(sources: Vec<Source>, shard: Shard) -> Self {
        let total_bytes = sources
            .iter()
            .map(|s| {
                (!s.stdin)
                    .then(|| std::fs::metadata(&s.path).map(|m| m.len()).ok())
                    .flatten()
            })
            .sum::<Option<u64>>();
        CorpusReader {
            sources: sources.into_iter(),
            open: None,
            shard,
            documents_seen: 0,
            bytes_read: 0,
            total_bytes,
            line_buf: Vec::new(),
        }
    }

    /// Sum of the input files' sizes; `None` when standard input is among them.
    pub fn total_bytes(&self) -> Option<u64> {
        self.total_bytes
    }

    /// Bytes read (or skipped, for `.txt` files of other shards) so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Documents passed so far, all shards.
    pub fn documents_seen(&self) -> u64 {
        self.documents_seen
    }

    /// The next document of this shard, or `None` at the end of the last source.
    pub fn next_document(&mut self) -> Result<Option<RawDocument>> {
        loop {
            if self.open.is_none() {
                let Some(source) = self.sources.next() else {
                    return Ok(None);
                };
                if source.format == SourceFormat::Text {
                    if let Some(doc) = self.text_document(source)? {
                        return Ok(Some(doc));
                    }
                    continue;
                }
                self.open = Some(open_source(source)?);
            }
            if let Some(doc) = self.next_line_document()? {
                return Ok(Some(doc));
            }
        }
    }

    /// A `.txt` file is one document: read it if it belongs to this shard.
    fn text_document(&mut self, source: Source) -> Result<Option<RawDocument>> {
        let index = self.documents_seen;
        self.documents_seen += 1;
        if !self.shard.contains(index) {
            self.bytes_read += std::fs::metadata(&source.path).map(|m| m.len()).unwrap_or(0);
            return Ok(None);
        }
        let bytes = std::fs::read(&source.path).map_err(|e| CorpusError::Io {
            path: source.path.clone(),
            source: e,
        })?;
        self.bytes_read += bytes.len() as u64;
        Ok(Some(RawDocument {
            origin: Origin {
                path: source.path,
                line: 1,
            },
            format: SourceFormat::Text,
            bytes,
            index,
        }))
    }

    /// Reads lines of the open JSONL source until one belongs to this shard; closes the source at its end.
    fn next_line_document(&mut self) -> Result<Option<RawDocument>> {
        let Some(open) = self.open.as_mut() else {
            return Ok(None);
        };
        loop {
            self.line_buf.clear();
            let n = open
                .reader
                .read_until(b'\n', &mut self.line_buf)
                .map_err(|source| CorpusError::Io {
                    path: open.source.path.clone(),
                    source,
                })?;
            if n == 0 {
                self.open = None;
                return Ok(None);
            }
            open.line += 1;
            self.bytes_read += n as u64;
            if self.line_buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let index = self.documents_seen;
            self.documents_seen += 1;
            if !self.shard.contains(index) {
                continue;
            }
            while matches!(self.line_buf.last(), Some(b'\n' | b'\r')) {
                self.line_buf.pop();
            }
            return Ok(Some(RawDocument {
                origin: Origin {
                    path: open.source.path.clone(),
                    line: open.line,
                },
                format: SourceFormat::Jsonl,
                bytes: std::mem::take(&mut self.line_buf),
                index,
            }));
        }
    }
}

fn open_source(source: Source) -> Result<Open> {
    let reader: Box<dyn BufRead + Send> = if source.stdin {
        Box::new(BufReader::with_capacity(READ_BUFFER, std::io::stdin()))
    } else {
        let file = File::open(&source.path).map_err(|e| CorpusError::Io {
            path: source.path.clone(),
            source: e,
        })?;
        Box::new(BufReader::with_capacity(READ_BUFFER, file))
    };
    Ok(Open {
        source,
        reader,
        line: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(sources: Vec<Source>, shard: Shard) -> Vec<RawDocument> {
        let mut reader = CorpusReader::new(sources, shard);
        let mut docs = Vec::new();
        while let Some(doc) = reader.next_document().unwrap() {
            docs.push(doc);
        }
        docs
    }

    #[test]
    fn reads_files_in_order_skipping_blank_lines_and_other_shards() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("b.jsonl"),
            "{\"text\": \"b1\"}\n\n  \r\n{\"text\": \"b2\"}\r\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("a.txt"), "whole file\n").unwrap();
        std::fs::write(dir.path().join("c.md"), "ignored").unwrap();
        std::fs::write(dir.path().join(".hidden.jsonl"), "ignored").unwrap();
        let sources = resolve_inputs(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(sources.len(), 2);

        let all = read_all(sources.clone(), Shard::ALL);
        let lines: Vec<u64> = all.iter().map(|d| d.origin.line).collect();
        assert_eq!(lines, [1, 1, 4]);
        assert_eq!(all[0].bytes, b"whole file\n");
        assert_eq!(all[2].bytes, b"{\"text\": \"b2\"}");

        let odd = read_all(sources, "1/2".parse().unwrap());
        assert_eq!(odd.len(), 1);
        assert_eq!((odd[0].index, odd[0].origin.line), (1, 1));
    }

    #[test]
    fn unsupported_inputs_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let md = dir.path().join("notes.md");
        std::fs::write(&md, "x").unwrap();
        let err = resolve_inputs(&[md]).unwrap_err().to_string();
        assert!(err.contains("notes.md") && err.contains(".jsonl"), "{err}");
        let err = resolve_inputs(&[dir.path().join("missing.jsonl")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing.jsonl"), "{err}");
        let err = resolve_inputs(&["-".into(), "-".into()]).unwrap_err().to_string();
        assert!(err.contains("only once"), "{err}");
    }
}
