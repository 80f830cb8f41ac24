//! The corpus folder on small local fixtures: dedup counts, provenance, split determinism, idempotence marker.

use std::path::Path;

use super::super::recipe::Fetch;
use super::*;

fn fortunes(root: &Path, name: &str, entries: &[&str]) {
    let dir = root.join("usr/share/games/fortunes");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join(name), entries.join("\n%\n")).expect("write");
}

fn source(name: &'static str, licence: &'static str, root: &Path) -> SourceInput {
    SourceInput {
        spec: SourceSpec {
            name,
            kind: SourceKind::Fortunes,
            fetch: Fetch::Debian { packages: &[] },
            licence,
        },
        roots: vec![root.to_path_buf()],
        origin: format!("test {name}"),
    }
}

fn read_lines(path: &Path) -> Vec<CorpusDocument> {
    std::fs::read_to_string(path)
        .expect("read")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

/// Two sources: `a` has 40 distinct quotes plus a whitespace variant of its first; `b` repeats two of `a`'s.
fn two_sources(dir: &Path) -> Vec<SourceInput> {
    let a: Vec<String> = (0..40).map(|i| format!("Quote number {i} is wise.")).collect();
    let mut a_entries: Vec<&str> = a.iter().map(String::as_str).collect();
    a_entries.push("Quote  number 0\tis wise.  ");
    fortunes(&dir.join("a"), "wisdom", &a_entries);
    fortunes(
        &dir.join("b"),
        "more",
        &["Quote number 3 is wise.", "Something new.", &a[7]],
    );
    vec![
        source("a", "BSD-3-Clause", &dir.join("a")),
        source("b", "GPL-2.0-only", &dir.join("b")),
    ]
}

#[test]
fn duplicates_are_dropped_and_counted_per_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = two_sources(dir.path());
    let out = dir.path().join("corpus");
    let manifest = build_corpus(Task::Toxicity, &sources, SplitFractions::default(), &out).expect("build");
    assert_eq!(manifest.sources[0].items, 41);
    assert_eq!(manifest.sources[0].duplicates, 1);
    assert_eq!(manifest.sources[0].kept.documents, 40);
    assert_eq!(manifest.sources[1].items, 3);
    assert_eq!(manifest.sources[1].duplicates, 2);
    assert_eq!(manifest.sources[1].kept.documents, 1);
    assert_eq!(manifest.duplicates, 3);
    assert_eq!(manifest.total.documents, 41);

    let docs: Vec<CorpusDocument> = Manifest::split_files(&out).iter().flat_map(|f| read_lines(f)).collect();
    assert_eq!(docs.len(), 41);
    let new = docs.iter().find(|d| d.text == "Something new.").expect("b's own quote");
    assert_eq!(
        (new.source.as_str(), new.id.as_str(), new.licence.as_str()),
        ("b", "more#2", "GPL-2.0-only")
    );
    assert!(docs
        .iter()
        .filter(|d| d.source == "a")
        .all(|d| d.licence == "BSD-3-Clause"));
    let chars: u64 = docs.iter().map(|d| d.text.chars().count() as u64).sum();
    assert_eq!(manifest.total.characters, chars);
}

#[test]
fn splits_follow_the_text_and_reruns_are_byte_identical() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = two_sources(dir.path());
    let fractions = SplitFractions {
        validation: 0.2,
        test: 0.2,
    };
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    let m1 = build_corpus(Task::Toxicity, &sources, fractions, &one).expect("build");
    build_corpus(Task::Toxicity, &sources, fractions, &two).expect("build");
    for (f1, f2) in Manifest::split_files(&one).iter().zip(Manifest::split_files(&two)) {
        assert_eq!(std::fs::read(f1).expect("read"), std::fs::read(f2).expect("read"));
    }
    for split in Split::ALL {
        let docs = read_lines(&one.join(split.file_name()));
        assert_eq!(docs.len() as u64, m1.splits[&split].documents);
        for doc in &docs {
            assert_eq!(fractions.split_of(&dedup_key(&doc.text)), split, "{}", doc.text);
        }
    }
    // With 41 documents at 20% each, every split is non-empty (the assignment is pinned by the texts).
    assert!(Split::ALL.iter().all(|s| m1.splits[s].documents > 0), "{:?}", m1.splits);

    // Source order changes which copy of a duplicate is kept, never a text's split.
    let reversed: Vec<SourceInput> = sources.iter().rev().cloned().collect();
    let three = dir.path().join("three");
    build_corpus(Task::Toxicity, &reversed, fractions, &three).expect("build");
    for split in Split::ALL {
        let texts = |d: &Path| {
            let mut t: Vec<String> = read_lines(&d.join(split.file_name()))
                .into_iter()
                .map(|d| d.text)
                .collect();
            t.sort();
            t
        };
        assert_eq!(texts(&one), texts(&three));
    }
}

#[test]
fn a_complete_folder_is_recognised_and_a_stale_one_is_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = two_sources(dir.path());
    let out = dir.path().join("corpus");
    assert!(is_complete(&out, Task::Toxicity, SplitFractions::default()).is_none());
    let built = build_corpus(Task::Toxicity, &sources, SplitFractions::default(), &out).expect("build");
    assert_eq!(
        is_complete(&out, Task::Toxicity, SplitFractions::default()),
        Some(built)
    );
    assert!(is_complete(&out, Task::Pii, SplitFractions::default()).is_none());
    let other = SplitFractions {
        validation: 0.1,
        test: 0.0,
    };
    assert!(is_complete(&out, Task::Toxicity, other).is_none());
    std::fs::remove_file(out.join("test.jsonl")).expect("rm");
    assert!(is_complete(&out, Task::Toxicity, SplitFractions::default()).is_none());
    // Rebuilding over an earlier corpus folder replaces it.
    build_corpus(Task::Toxicity, &sources, SplitFractions::default(), &out).expect("rebuild");
    assert!(is_complete(&out, Task::Toxicity, SplitFractions::default()).is_some());
}

#[test]
fn a_folder_that_is_not_a_corpus_is_never_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = two_sources(dir.path());
    let out = dir.path().join("mine");
    std::fs::create_dir_all(&out).expect("mkdir");
    std::fs::write(out.join("precious.txt"), "keep").expect("write");
    build_corpus(Task::Toxicity, &sources, SplitFractions::default(), &out).expect_err("not a corpus folder");
    assert!(out.join("precious.txt").is_file());
}

#[test]
fn the_split_files_are_read_by_the_corpus_reader() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("corpus");
    build_corpus(
        Task::Toxicity,
        &two_sources(dir.path()),
        SplitFractions::default(),
        &out,
    )
    .expect("build");
    let reader = crate::CorpusReader::open(&[out.join("train.jsonl")]).expect("open");
    let docs: Vec<crate::Document> = reader.map(|d| d.expect("doc")).collect();
    assert!(!docs.is_empty());
    assert!(docs
        .iter()
        .all(|d| d.source.as_deref().is_some_and(|s| s == "a" || s == "b")));
}
