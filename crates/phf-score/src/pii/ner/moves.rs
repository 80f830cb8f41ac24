//! spaCy's BILUO move set for NER (`spacy.pipeline._parser_internals.ner.BiluoPushDown`) and the validity rules
//! of each move, for a document without preset entities.
//!
//! spaCy also forbids an entity to continue across a sentence start set by the dependency parser, which runs
//! before the NER in en_core_web_sm's pipeline. There is no parser here, so that rule is not applied; an entity
//! the NER would have run across a sentence boundary is the one way this port can differ from the reference on
//! text that tokenises the same (the PII scorer sees one sentence at a time, which makes it rare).

use crate::error::{Result, ScoreError};
use std::path::Path;

/// What a move does to the token at the front of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// First token of a multi-token entity.
    Begin,
    /// Inside an open entity.
    In,
    /// Last token of the open entity.
    Last,
    /// A one-token entity.
    Unit,
    /// Outside any entity.
    Out,
}

/// A move: an action and its entity label (an index into the labels; `None` for `O` and the label-less `U-`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub action: Action,
    pub label: Option<usize>,
}

/// The NER's state while it walks the document: the front of the buffer and the open entity.
#[derive(Debug, Clone, Copy)]
pub struct State {
    /// Index of the token at the front of the buffer.
    pub next: usize,
    /// Tokens in the document.
    pub len: usize,
    /// The open entity's first token and label.
    pub open: Option<(usize, usize)>,
}

impl Move {
    /// Whether spaCy allows this move in `state`; `front_is_space` says whether the front token is whitespace.
    pub fn is_valid(&self, state: &State, front_is_space: bool) -> bool {
        let buffer = state.len - state.next;
        match (self.action, self.label) {
            (Action::Out, _) => state.open.is_none(),
            (_, None) => false,
            (Action::Begin, Some(_)) => state.open.is_none() && buffer >= 2 && !front_is_space,
            (Action::In, Some(l)) => buffer >= 2 && matches!(state.open, Some((_, open)) if open == l),
            (Action::Last, Some(l)) => matches!(state.open, Some((_, open)) if open == l),
            (Action::Unit, Some(_)) => state.open.is_none() && !front_is_space,
        }
    }
}

/// Parses the manifest's move names (`B-ORG`, `O`, `U-`, …) into moves and the list of labels.
pub fn parse_moves(names: &[String], path: &Path) -> Result<(Vec<Move>, Vec<String>)> {
    let mut labels: Vec<String> = Vec::new();
    let mut moves = Vec::with_capacity(names.len());
    for name in names {
        if name == "O" {
            moves.push(Move {
                action: Action::Out,
                label: None,
            });
            continue;
        }
        let (action, label) = name.split_once('-').ok_or_else(|| ScoreError::NerFormat {
            path: path.to_path_buf(),
            reason: format!("move `{name}` is not `O` or `<B|I|L|U>-<label>`"),
        })?;
        let action = match action {
            "B" => Action::Begin,
            "I" => Action::In,
            "L" => Action::Last,
            "U" => Action::Unit,
            _ => {
                return Err(ScoreError::NerFormat {
                    path: path.to_path_buf(),
                    reason: format!("move `{name}` has an unknown action"),
                })
            }
        };
        let label = if label.is_empty() {
            None
        } else if let Some(i) = labels.iter().position(|l| l == label) {
            Some(i)
        } else {
            labels.push(label.to_string());
            Some(labels.len() - 1)
        };
        moves.push(Move { action, label });
    }
    Ok((moves, labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(action: Action, label: usize) -> Move {
        Move {
            action,
            label: Some(label),
        }
    }

    #[test]
    fn an_open_entity_must_close_before_the_end() {
        let state = State {
            next: 2,
            len: 3,
            open: Some((1, 0)),
        };
        assert!(!mv(Action::In, 0).is_valid(&state, false));
        assert!(!mv(Action::In, 1).is_valid(&state, false));
        assert!(mv(Action::Last, 0).is_valid(&state, false));
        assert!(!mv(Action::Last, 1).is_valid(&state, false));
        assert!(!Move {
            action: Action::Out,
            label: None
        }
        .is_valid(&state, false));
    }

    #[test]
    fn entities_do_not_start_on_whitespace_or_at_the_last_token() {
        let state = State {
            next: 0,
            len: 2,
            open: None,
        };
        assert!(!mv(Action::Begin, 0).is_valid(&state, true));
        assert!(!mv(Action::Unit, 0).is_valid(&state, true));
        assert!(mv(Action::Begin, 0).is_valid(&state, false));
        let last = State { next: 1, ..state };
        assert!(!mv(Action::Begin, 0).is_valid(&last, false));
        assert!(mv(Action::Unit, 0).is_valid(&last, false));
        assert!(!Move {
            action: Action::Unit,
            label: None
        }
        .is_valid(&last, false));
    }

    #[test]
    fn move_names_parse() {
        let names: Vec<String> = ["B-ORG", "B-PERSON", "I-ORG", "L-PERSON", "U-", "O"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (moves, labels) = parse_moves(&names, Path::new("m")).unwrap();
        assert_eq!(labels, ["ORG", "PERSON"]);
        assert_eq!(moves[3], mv(Action::Last, 1));
        assert_eq!(moves[4].label, None);
        assert!(parse_moves(&["X-ORG".to_string()], Path::new("m")).is_err());
    }
}
