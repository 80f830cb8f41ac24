//! The source readers on small fixtures written here (no network): the layouts of the npm and Debian packages.

use std::path::{Path, PathBuf};

use super::*;

fn collect(kind: SourceKind, roots: &[PathBuf]) -> Vec<Item> {
    let mut items = Vec::new();
    read_source(kind, roots, &mut |item| {
        items.push(item);
        Ok(())
    })
    .expect("read");
    items
}

fn doc(id: &str, text: &str) -> Item {
    Item::Document {
        id: id.into(),
        text: text.into(),
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// The npm SpamAssassin layout with five emails: plain, MIME-noisy, HTML, plain with CRLF, plain with a
/// multi-byte character where a MIME marker would end.
pub(crate) fn spam_package(root: &Path) {
    let data = root.join("package/data");
    write(&data.join("file_list.json"), "[]");
    let prose = "We met at the cafe and talked about the weather for a while, then walked home.\t \n".repeat(4);
    let email = |group: &str, id: &str, raw: String| {
        let json = serde_json::json!({"id": id, "group": group, "checksum": {}, "text": raw});
        write(&data.join(group).join(format!("{id}.abc.json")), &json.to_string());
    };
    email(
        "easy-ham-1",
        "00001",
        format!("From: Ann <ann@example.com>\nSubject: hi\n\n{prose}"),
    );
    email(
        "easy-ham-1",
        "00002",
        format!("From: Bob <bob@example.com>\n\n{prose}------=_NextPart_000\nContent-Type: text/html\n\n<p>x</p>\n"),
    );
    email(
        "spam-1",
        "00003",
        format!("From: x@y.z\nContent-Type: text/html\n\n<html>{prose}</html>"),
    );
    // A multi-byte character where a marker's last byte would fall must not split it.
    email(
        "spam-1",
        "00005",
        format!("From: e@f.g\n\n{prose}Content-Type\u{e9} is not a header\n"),
    );
    email(
        "spam-1",
        "00004",
        format!(
            "From: Cy <cy@example.com>\r\nTo: d@e.f\r\n\r\n{}",
            prose.replace('\n', "\r\n")
        ),
    );
}

#[test]
fn mail_bodies_are_clean_and_noisy_ones_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    spam_package(dir.path());
    let items = collect(SourceKind::MailBodies, &[dir.path().to_path_buf()]);
    let clean = "We met at the cafe and talked about the weather for a while, then walked home.\n".repeat(4);
    assert_eq!(
        items,
        vec![
            doc("easy-ham-1/00001", clean.trim()),
            Item::Skipped { reason: "mail-mime" },
            Item::Skipped { reason: "mail-html" },
            doc("spam-1/00004", clean.trim()),
            doc("spam-1/00005", &format!("{clean}Content-Type\u{e9} is not a header")),
        ]
    );
}

#[test]
fn mail_headers_are_a_source_of_their_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    spam_package(dir.path());
    let items = collect(SourceKind::MailHeaders, &[dir.path().to_path_buf()]);
    assert_eq!(items.len(), 5);
    assert_eq!(
        items[0],
        doc("easy-ham-1/00001", "From: Ann <ann@example.com>\nSubject: hi")
    );
    assert_eq!(items[3], doc("spam-1/00004", "From: Cy <cy@example.com>\nTo: d@e.f"));
}

#[test]
fn stdlib_texts_read_json_objects_sorted_and_pass_over_file_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(&dir.path().join("file_list.json"), r#"["b.txt", "a.txt"]"#);
    write(
        &dir.path().join("b.json"),
        r#"{"year": 1791, "text": "Fellow-Citizens:\r\nWe meet.  "}"#,
    );
    write(
        &dir.path().join("a.json"),
        r#"{"chapter": "1", "text": "Call me Ishmael."}"#,
    );
    write(&dir.path().join("a.txt"), "ignored twin");
    let items = collect(SourceKind::StdlibTexts, &[dir.path().to_path_buf()]);
    assert_eq!(
        items,
        vec![doc("a", "Call me Ishmael."), doc("b", "Fellow-Citizens:\nWe meet.")]
    );

    write(&dir.path().join("c.json"), "{\"text\": ");
    let mut sink = |_| Ok(());
    let err = read_source(SourceKind::StdlibTexts, &[dir.path().to_path_buf()], &mut sink).expect_err("bad json");
    assert!(err.to_string().contains("c.json:1"), "{err}");
}

#[test]
fn fortunes_split_on_percent_lines_and_skip_ascii_art_and_indexes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let games = dir.path().join("usr/share/games/fortunes");
    write(
        &games.join("wisdom"),
        "A fool and his money.\n%\n\n%\nTwo lines\n\t\t-- Anon\n%\nlast one without a delimiter",
    );
    write(&games.join("wisdom.dat"), "\u{0}\u{1}binary index");
    write(&games.join("ascii-art"), "  /\\_/\\\n ( o.o )\n%\n  >^<\n");
    #[cfg(unix)]
    std::os::unix::fs::symlink(games.join("wisdom"), games.join("wisdom.u8")).expect("symlink");
    let items = collect(SourceKind::Fortunes, &[dir.path().to_path_buf()]);
    assert_eq!(
        items,
        vec![
            Item::Skipped { reason: "ascii-art" },
            Item::Skipped { reason: "ascii-art" },
            doc("wisdom#1", "A fool and his money."),
            doc("wisdom#2", "Two lines\n\t\t-- Anon"),
            doc("wisdom#3", "last one without a delimiter"),
        ]
    );
}

#[test]
fn python_files_are_kept_byte_for_byte_except_newlines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        &root.join("os.py"),
        "import sys  \r\n\r\n\r\ndef f( x ):\r\n    return x\r\n",
    );
    write(&root.join("test/test_os.py"), "assert True\n");
    write(&root.join("site-packages/numpy/core.py"), "third party\n");
    write(&root.join("__pycache__/os.cpython-311.py"), "cache\n");
    write(&root.join("empty/__init__.py"), "\n");
    write(&root.join("notes.txt"), "not python");
    std::fs::write(root.join("latin1.py"), b"# caf\xe9\n").expect("write");
    let items = collect(SourceKind::PythonFiles, &[root.to_path_buf()]);
    assert_eq!(
        items,
        vec![
            Item::Skipped { reason: "empty" },
            Item::Skipped { reason: "not-utf8" },
            doc("os.py", "import sys  \n\n\ndef f( x ):\n    return x\n"),
            doc("test/test_os.py", "assert True\n"),
        ]
    );
}

#[test]
fn a_missing_or_wrong_folder_says_what_was_expected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sink = |_| Ok(());
    let root = vec![dir.path().to_path_buf()];
    let err = read_source(SourceKind::MailBodies, &root, &mut sink).expect_err("not the package");
    assert!(err.to_string().contains("spam-assassin"), "{err}");
    let err = read_source(SourceKind::Fortunes, &root, &mut sink).expect_err("no fortunes");
    assert!(err.to_string().contains("fortune"), "{err}");
    let err = read_source(SourceKind::PythonFiles, &[dir.path().join("nope")], &mut sink).expect_err("missing");
    assert!(err.to_string().contains("nope"), "{err}");
}
