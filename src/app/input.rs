//! The line being typed at the bottom of the screen: a `/` filter (applied as typed), a logs
//! search, or a `:` command with tab completion.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::effect::Effect;
use super::nav;
use super::state::{Input, InputKind, State};
use super::update::set_filter;

/// Keys while a filter or command line is being typed.
pub(super) fn input_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    state.dirty = true;
    let Some(input) = state.input.as_mut() else {
        return Vec::new();
    };
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('c') if ctrl => {
            state.quitting = true;
            return vec![Effect::quit()];
        }
        KeyCode::Char('u') if ctrl => input.text.clear(),
        KeyCode::Char(c) if !ctrl => input.text.push(c),
        KeyCode::Backspace => {
            input.text.pop();
        }
        KeyCode::Esc => {
            let input = state.input.take();
            match input {
                Some(Input {
                    kind: InputKind::Filter,
                    original,
                    ..
                }) => set_filter(state, original),
                Some(Input {
                    kind: InputKind::Search,
                    original,
                    ..
                }) => super::logs::set_search(state, &original),
                _ => {}
            }
            return Vec::new();
        }
        KeyCode::Tab if input.kind == InputKind::Command => {
            let text = input.text.clone();
            let completions = nav::complete(state, &text);
            if let Some(input) = state.input.as_mut() {
                match completions.as_slice() {
                    [one] => {
                        input.text = format!("{one} ");
                        input.completions.clear();
                    }
                    many => {
                        if let Some(prefix) = common_prefix(many)
                            && prefix.len() > input.text.len()
                        {
                            input.text = prefix;
                        }
                        input.completions = many.to_vec();
                    }
                }
            }
            return Vec::new();
        }
        KeyCode::Enter => {
            let Some(input) = state.input.take() else {
                return Vec::new();
            };
            return match input.kind {
                InputKind::Filter => {
                    set_filter(state, input.text);
                    Vec::new()
                }
                InputKind::Command => match nav::run_command_line(state, &input.text) {
                    Ok(effects) => effects,
                    Err(msg) => {
                        state.input = Some(Input {
                            error: Some(msg),
                            ..input
                        });
                        Vec::new()
                    }
                },
                InputKind::LogQuery => match crate::logs::query::Query::parse(&input.text) {
                    Ok(query) => {
                        super::logs::apply_filter(state, query);
                        Vec::new()
                    }
                    Err(e) => {
                        state.input = Some(Input {
                            error: Some(e.to_string()),
                            ..input
                        });
                        Vec::new()
                    }
                },
                InputKind::Search => Vec::new(),
            };
        }
        _ => return Vec::new(),
    }
    // Text changed: live filter, fresh completions, no stale error.
    let (kind, text) = (input.kind, input.text.clone());
    input.error = None;
    match kind {
        InputKind::Filter => set_filter(state, text),
        // A query is checked as it is typed but applied on Enter (re-filtering 50,000
        // lines per keystroke would lag).
        InputKind::LogQuery => {
            if let Err(e) = crate::logs::query::Query::parse(&text)
                && let Some(input) = state.input.as_mut()
            {
                input.error = Some(e.to_string());
            }
        }
        InputKind::Search => super::logs::set_search(state, &text),
        InputKind::Command => {
            let completions = nav::complete(state, &text);
            if let Some(input) = state.input.as_mut() {
                input.completions = completions;
            }
        }
    }
    Vec::new()
}

fn common_prefix(items: &[String]) -> Option<String> {
    let first = items.first()?;
    let mut len = first.len();
    for item in &items[1..] {
        len = len.min(
            first
                .chars()
                .zip(item.chars())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a.len_utf8())
                .sum(),
        );
    }
    Some(first[..len].to_string())
}
