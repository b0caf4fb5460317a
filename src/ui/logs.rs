//! The logs pane: a title line (scope, tail state, counts, filter), the lines (time, level,
//! task, container, message, fields; or raw), a status line when paused or searching, and the
//! selected line pretty-printed below when expanded.
//!
//! Only the visible lines are built, so a frame costs the same with 100 or 100,000 lines
//! buffered. Every piece of a log line goes through `sanitize` and is cut to what can be
//! shown before any work is done on it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use unicode_width::UnicodeWidthChar;

use crate::app::logs::{LogsView, Search, TailState};
use crate::app::{Command, Context, State};
use crate::config::theme::{Slot, Theme};
use crate::logs::{Format, Level, LogEvent};
use crate::text::sanitize;

/// Bytes of a message considered for one unwrapped row (more cannot be on screen).
const ROW_BYTES: usize = 1024;
/// Bytes of a message shown when wrapping.
const WRAP_BYTES: usize = 16 * 1024;
/// Bytes of a line pretty-printed in the expanded view.
const EXPAND_BYTES: usize = 64 * 1024;

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &LogsView, theme: &Theme) {
    if area.height < 3 {
        return;
    }
    let status = status_line(state, view, theme);
    let notes = !view.notes.is_empty();
    let [title_area, notes_area, body_area, status_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(notes)),
        Constraint::Min(1),
        Constraint::Length(u16::from(status.is_some())),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(title_line(state, view, theme, area.width)),
        title_area,
    );
    if notes {
        let text = format!("note: {}", view.notes.join("; "));
        frame.render_widget(
            Paragraph::new(Line::styled(
                clip(&sanitize(&text), usize::from(area.width)),
                theme.style(Slot::Warning),
            )),
            notes_area,
        );
    }
    let (list_area, detail_area) = if view.expanded && body_area.height >= 6 {
        let [a, b] = Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)])
            .areas(body_area);
        (a, Some(b))
    } else {
        (body_area, None)
    };
    render_lines(frame, list_area, state, view, theme);
    if let Some(area) = detail_area {
        render_detail(frame, area, state, view, theme);
    }
    if let Some(line) = status {
        frame.render_widget(Paragraph::new(line), status_area);
    }
}

fn title_line(state: &State, view: &LogsView, theme: &Theme, width: u16) -> Line<'static> {
    let (tail_text, tail_slot) = match &view.state {
        TailState::Resolving => (
            format!("{} finding streams", super::spinner(state)),
            Slot::Muted,
        ),
        TailState::Reading => (
            format!("{} reading history", super::spinner(state)),
            Slot::Muted,
        ),
        // A stopped task's streams are complete: "live" would promise lines that never come.
        TailState::Live { .. } | TailState::Polling { .. } if view.all_stopped => {
            ("■ stopped · no new lines".to_string(), Slot::Muted)
        }
        TailState::Live { sampled: false } => ("● live".to_string(), Slot::Success),
        TailState::Live { sampled: true } => ("● live (sampled by AWS)".to_string(), Slot::Warning),
        TailState::Polling { .. } => ("● polling".to_string(), Slot::Success),
        TailState::Throttled => ("throttled, backing off".to_string(), Slot::Warning),
        TailState::Retrying(_) => ("retrying".to_string(), Slot::Warning),
        TailState::Ended => ("ended".to_string(), Slot::Muted),
        TailState::Failed(_) => ("failed".to_string(), Slot::Error),
    };
    let mut spans = vec![
        Span::styled(
            sanitize(&view.title()).into_owned(),
            theme.style(Slot::Title),
        ),
        Span::styled(
            format!(" · {} ", super::plural(view.streams, "stream")),
            theme.style(Slot::Muted),
        ),
        Span::styled(tail_text, theme.style(tail_slot)),
    ];
    let buffer = &view.buffer;
    let mut right = vec![Span::styled(
        format!("{} lines", group(buffer.len() as u64)),
        theme.style(Slot::Muted),
    )];
    if buffer.dropped() > 0 {
        right.push(Span::styled(
            format!(" · {} dropped", group(buffer.dropped())),
            theme.style(Slot::Warning),
        ));
    }
    if !buffer.filter().is_empty() {
        right.push(Span::styled(
            format!(
                " · filter {} ({} shown)",
                sanitize(&buffer.filter().source),
                group(buffer.view_len() as u64)
            ),
            theme.style(Slot::Accent),
        ));
    }
    let left_w: usize = spans.iter().map(|s| s.width()).sum();
    let right_w: usize = right.iter().map(|s| s.width()).sum();
    let width = usize::from(width);
    if left_w + right_w + 2 <= width {
        spans.push(Span::raw(" ".repeat(width - left_w - right_w)));
        spans.extend(right);
    } else if left_w + 3 < width {
        // Narrow: the counts, cut, after the scope.
        spans.push(Span::raw("  "));
        let mut room = width - left_w - 2;
        for s in right {
            let text = clip(&s.content, room);
            room = room.saturating_sub(text.chars().count());
            spans.push(Span::styled(text, s.style));
        }
    }
    Line::from(spans)
}

/// " · KEY does" for the key the keymap binds to `cmd` in the logs pane; empty if none.
fn key_hint(state: &State, cmd: Command, does: &str) -> String {
    state
        .keymap
        .first_key(Context::Logs, cmd)
        .map(|k| format!(" · {k} {does}"))
        .unwrap_or_default()
}

fn status_line(state: &State, view: &LogsView, theme: &Theme) -> Option<Line<'static>> {
    let mut spans = Vec::new();
    match &view.state {
        TailState::Failed(msg) => spans.push(Span::styled(
            format!(
                "{}{}",
                sanitize(msg),
                key_hint(state, Command::Refresh, "retries")
            ),
            theme.style(Slot::Error),
        )),
        TailState::Retrying(msg) => spans.push(Span::styled(
            format!("{} · retrying", sanitize(msg)),
            theme.style(Slot::Warning),
        )),
        TailState::Polling { reason: Some(r) } if view.buffer.is_empty() => {
            spans.push(Span::styled(
                format!("polling: {}", sanitize(r)),
                theme.style(Slot::Muted),
            ))
        }
        _ => {}
    }
    if !view.follow {
        if !spans.is_empty() {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled("paused", theme.style(Slot::Warning)));
        if view.new_lines > 0 {
            spans.push(Span::styled(
                format!(
                    " · {} new line{}",
                    view.new_lines,
                    if view.new_lines == 1 { "" } else { "s" }
                ),
                theme.style(Slot::Accent),
            ));
        }
        spans.push(Span::styled(
            key_hint(state, Command::ToggleFollow, "follows again"),
            theme.style(Slot::Muted),
        ));
    }
    if let Some(search) = &view.search {
        if !spans.is_empty() {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(
            format!("search {} · n/N", sanitize(&search.text)),
            theme.style(Slot::Muted),
        ));
    }
    if view.loading_older {
        if !spans.is_empty() {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(
            "reading older lines…",
            theme.style(Slot::Muted),
        ));
    }
    (!spans.is_empty()).then(|| Line::from(spans))
}

fn render_lines(frame: &mut Frame, area: Rect, state: &State, view: &LogsView, theme: &Theme) {
    let height = usize::from(area.height);
    let width = usize::from(area.width);
    let len = view.buffer.view_len();
    if len == 0 {
        let msg = empty_message(state, view);
        frame.render_widget(
            Paragraph::new(Line::styled(
                clip(&sanitize(&msg), width),
                theme.style(Slot::Muted),
            )),
            area,
        );
        return;
    }
    let _ = state;
    let rows_of = |i: usize| -> usize {
        if !view.wrap {
            return 1;
        }
        view.buffer.view_get(i).map_or(1, |ev| {
            wrap(line_segments(view, ev, theme, false), width).len()
        })
    };
    let selected = view.selected.min(len - 1);
    // The first line such that lines first..=last fill at most `height` rows.
    let fit_from = |last: usize| -> usize {
        let mut used = 0;
        let mut first = last;
        loop {
            used += rows_of(first);
            if used > height && first < last {
                return first + 1;
            }
            if first == 0 || used >= height {
                return first;
            }
            first -= 1;
        }
    };
    let mut offset = view.offset.get().min(len - 1);
    if view.follow {
        offset = fit_from(len - 1);
    } else if selected < offset {
        offset = selected;
    } else {
        let mut used = 0;
        for i in offset..=selected {
            used += rows_of(i);
            if used > height {
                offset = fit_from(selected);
                break;
            }
        }
    }
    view.offset.set(offset);

    let mut lines: Vec<Line> = Vec::with_capacity(height);
    let mut i = offset;
    while lines.len() < height && i < len {
        let Some(ev) = view.buffer.view_get(i) else {
            break;
        };
        let mut segments = line_segments(view, ev, theme, view.wrap);
        if let Some(search) = &view.search {
            segments = highlight(segments, search, theme.style(Slot::MatchHighlight));
        }
        let mut rows = if view.wrap {
            wrap(segments, width)
        } else {
            vec![segments]
        };
        if i == selected {
            let sel = theme.style(Slot::Selection);
            for row in &mut rows {
                let used: usize = row.iter().map(|(t, _)| text_width(t)).sum();
                for seg in row.iter_mut() {
                    seg.1 = seg.1.patch(sel);
                }
                if used < width {
                    row.push((" ".repeat(width - used), sel));
                }
            }
        }
        for row in rows {
            if lines.len() == height {
                break;
            }
            lines.push(Line::from(
                row.into_iter()
                    .map(|(t, s)| Span::styled(t, s))
                    .collect::<Vec<_>>(),
            ));
        }
        i += 1;
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn empty_message(state: &State, view: &LogsView) -> String {
    match &view.state {
        TailState::Resolving => "finding the log streams…".into(),
        TailState::Reading => "reading the last minutes of logs…".into(),
        TailState::Failed(msg) => msg.clone(),
        _ if !view.buffer.is_empty() => format!(
            "no line of {} matches {}{}",
            view.buffer.len(),
            view.buffer.filter().source,
            key_hint(state, Command::Back, "clears the filter")
        ),
        _ => match state.keymap.first_key(Context::Logs, Command::LoadOlder) {
            Some(k) => format!("no log lines yet · waiting for new ones ({k} reads older history)"),
            None => "no log lines yet · waiting for new ones".into(),
        },
    }
}

type Segments = Vec<(String, Style)>;

pub fn level_slot(level: Option<Level>) -> Slot {
    match level {
        Some(Level::Fatal | Level::Error) => Slot::LogError,
        Some(Level::Warn) => Slot::LogWarn,
        Some(Level::Info) => Slot::LogInfo,
        Some(Level::Debug) => Slot::LogDebug,
        Some(Level::Trace) => Slot::LogTrace,
        None => Slot::Text,
    }
}

/// The pieces of one line, styled. `full`: keep up to `WRAP_BYTES` of the message (for
/// wrapping) instead of one row's worth.
fn line_segments(view: &LogsView, ev: &LogEvent, theme: &Theme, full: bool) -> Segments {
    let limit = if full { WRAP_BYTES } else { ROW_BYTES };
    let mut out: Segments = Vec::with_capacity(8);
    let muted = theme.style(Slot::Muted);
    if view.timestamps {
        out.push((clock(ev.timestamp_ms), muted));
    }
    let level = ev.parsed.level;
    let level_style = theme.style(level_slot(level));
    out.push((
        format!("{:<5} ", level.map_or("", |l| l.as_str().trim())),
        level_style,
    ));
    if view.shows_task() && !ev.task_id.is_empty() {
        out.push((
            format!("{} ", sanitize(ev.short_task_id())),
            theme.style(Slot::Info),
        ));
    }
    if view.shows_container() && !ev.container.is_empty() {
        out.push((format!("{} ", sanitize(&ev.container)), muted));
    }
    if view.raw {
        out.push((cut(&ev.raw, limit), theme.style(Slot::Text)));
        return out;
    }
    let message = if ev.parsed.format == Format::Plain {
        &ev.raw
    } else {
        ev.parsed.message(&ev.raw)
    };
    // A multi-line event (a stack trace) shows its first line and how many follow; the
    // expanded view (enter) shows them all.
    let mut lines = message.split('\n');
    let first = lines.next().unwrap_or_default().trim_end_matches('\r');
    let more = lines.filter(|l| !l.trim().is_empty()).count();
    out.push((cut(first, limit), message_style(level, theme)));
    if more > 0 {
        out.push((format!(" ↵ +{}", super::plural(more, "line")), muted));
    }
    if ev.parsed.format == Format::Plain {
        return out;
    }
    // Correlation ids first (they are what one pivots on), then the other fields.
    let mut used = out.iter().map(|(t, _)| t.len()).sum::<usize>();
    let ids = ev.parsed.correlation_ids();
    for (k, v) in ids {
        if used > limit {
            break;
        }
        let text = format!("  {}={}", sanitize(k), cut(v, 128));
        used += text.len();
        out.push((text, theme.style(Slot::Accent)));
    }
    for (i, (k, v)) in ev.parsed.fields.iter().enumerate() {
        if used > limit {
            break;
        }
        if crate::logs::output::is_shown_elsewhere(ev, i, k)
            || crate::logs::parse::is_correlation_key(k)
        {
            continue;
        }
        out.push((format!("  {}=", sanitize(k)), muted));
        let value = cut(v, 256);
        used += k.len() + value.len() + 3;
        out.push((value, theme.style(Slot::Text)));
    }
    out
}

fn message_style(level: Option<Level>, theme: &Theme) -> Style {
    match level {
        Some(Level::Error | Level::Fatal) => theme.style(Slot::LogError),
        Some(Level::Warn) => theme.style(Slot::LogWarn),
        Some(Level::Debug | Level::Trace) => theme.style(Slot::Muted),
        _ => theme.style(Slot::Text),
    }
}

/// `12:03:04.123 ` (UTC).
fn clock(ms: i64) -> String {
    let rfc = crate::logs::time::format_rfc3339(ms);
    // 2024-05-01T12:03:04.123Z
    format!("{} ", rfc.get(11..23).unwrap_or(&rfc))
}

/// At most `max` bytes of `s` (at a character boundary), sanitised; a note says how much
/// was left out.
fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return sanitize(s).into_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}… (+{} bytes)",
        sanitize(&s[..end]),
        group((s.len() - end) as u64)
    )
}

fn text_width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// Split styled segments into rows of at most `width` columns.
fn wrap(segments: Segments, width: usize) -> Vec<Segments> {
    let width = width.max(1);
    let mut rows: Vec<Segments> = vec![Vec::new()];
    let mut col = 0;
    for (text, style) in segments {
        let mut piece = String::new();
        for c in text.chars() {
            let w = c.width().unwrap_or(0);
            if col + w > width && col > 0 {
                if !piece.is_empty()
                    && let Some(row) = rows.last_mut()
                {
                    row.push((std::mem::take(&mut piece), style));
                }
                rows.push(Vec::new());
                col = 0;
            }
            piece.push(c);
            col += w;
        }
        if !piece.is_empty()
            && let Some(row) = rows.last_mut()
        {
            row.push((piece, style));
        }
    }
    rows
}

/// Mark every occurrence of the search in the segments.
fn highlight(segments: Segments, search: &Search, mark: Style) -> Segments {
    if search.text.is_empty() {
        return segments;
    }
    let full: String = segments.iter().map(|(t, _)| t.as_str()).collect();
    let (hay, needle) = if search.case_sensitive {
        (full.clone(), search.text.clone())
    } else {
        (full.to_ascii_lowercase(), search.text.to_ascii_lowercase())
    };
    let mut ranges = Vec::new();
    let mut from = 0;
    while let Some(at) = hay.get(from..).and_then(|h| h.find(&needle)) {
        let start = from + at;
        let end = start + needle.len();
        ranges.push((start, end));
        from = end.max(start + 1);
        while from < hay.len() && !hay.is_char_boundary(from) {
            from += 1;
        }
    }
    if ranges.is_empty() {
        return segments;
    }
    let mut out = Vec::with_capacity(segments.len() + ranges.len() * 2);
    let mut pos = 0;
    for (text, style) in segments {
        let seg_start = pos;
        let seg_end = pos + text.len();
        pos = seg_end;
        let mut cursor = seg_start;
        for &(s, e) in &ranges {
            if e <= cursor || s >= seg_end {
                continue;
            }
            let s = s.max(cursor);
            let e = e.min(seg_end);
            if s > cursor {
                out.push((text[cursor - seg_start..s - seg_start].to_string(), style));
            }
            out.push((
                text[s - seg_start..e - seg_start].to_string(),
                style.patch(mark),
            ));
            cursor = e;
        }
        if cursor < seg_end {
            out.push((text[cursor - seg_start..].to_string(), style));
        }
    }
    out
}

fn render_detail(frame: &mut Frame, area: Rect, state: &State, view: &LogsView, theme: &Theme) {
    let closers: Vec<String> = [Command::Select, Command::Back]
        .into_iter()
        .filter_map(|cmd| state.keymap.first_key(Context::Logs, cmd))
        .map(|k| k.to_string())
        .collect();
    let title = if closers.is_empty() {
        " line detail ".to_string()
    } else {
        format!(" line detail · {} closes ", closers.join(" or "))
    };
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.style(Slot::Border))
        .title(Span::styled(title, theme.style(Slot::Muted)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(ev) = view.selected_event() else {
        return;
    };
    let width = usize::from(inner.width);
    let mut lines: Vec<Line> = Vec::new();
    let head = format!(
        "{} · {} · {}",
        crate::logs::time::format_rfc3339(ev.timestamp_ms),
        sanitize(&ev.stream),
        ev.parsed.level.map_or("no level", |l| l.as_str().trim())
    );
    lines.push(Line::styled(clip(&head, width), theme.style(Slot::Muted)));
    for text in detail_text(ev) {
        for row in wrap(vec![(text, theme.style(Slot::Text))], width) {
            lines.push(Line::from(
                row.into_iter()
                    .map(|(t, s)| Span::styled(t, s))
                    .collect::<Vec<_>>(),
            ));
            if lines.len() >= usize::from(inner.height) {
                break;
            }
        }
        if lines.len() >= usize::from(inner.height) {
            break;
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The selected line, readable: pretty JSON, logfmt as `key: value`, else the raw lines.
pub fn detail_text(ev: &LogEvent) -> Vec<String> {
    let raw = if ev.raw.len() > EXPAND_BYTES {
        cut(&ev.raw, EXPAND_BYTES)
    } else {
        ev.raw.clone()
    };
    if ev.parsed.format == Format::Json
        && let Ok(value) = serde_json::from_str::<serde_json::Value>(raw.trim())
        && let Ok(pretty) = serde_json::to_string_pretty(&value)
    {
        return pretty.lines().map(|l| sanitize(l).into_owned()).collect();
    }
    if ev.parsed.format == Format::Logfmt {
        return ev
            .parsed
            .fields
            .iter()
            .map(|(k, v)| format!("{}: {}", sanitize(k), sanitize(v)))
            .collect();
    }
    raw.split('\n')
        .map(|l| sanitize(l.trim_end_matches('\r')).into_owned())
        .collect()
}

/// At most `width` columns of `s`.
fn clip(s: &str, width: usize) -> String {
    let mut used = 0;
    let mut out = String::new();
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width {
            break;
        }
        used += w;
        out.push(c);
    }
    out
}

/// `12,345`.
fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_and_cutting() {
        assert_eq!(group(0), "0");
        assert_eq!(group(1234), "1,234");
        assert_eq!(group(1_234_567), "1,234,567");
        assert_eq!(cut("héllo", 2), "h… (+5 bytes)");
        assert_eq!(cut("a\u{1b}]52;c;x\u{7}", 100), "a␛]52;c;x␇");
    }

    #[test]
    fn wrapping_respects_width_and_wide_characters() {
        let rows = wrap(vec![("abcdef".into(), Style::default())], 4);
        let texts: Vec<String> = rows
            .iter()
            .map(|r| r.iter().map(|(t, _)| t.as_str()).collect())
            .collect();
        assert_eq!(texts, vec!["abcd", "ef"]);
        let rows = wrap(vec![("日本語".into(), Style::default())], 4);
        assert_eq!(rows.len(), 2);
    }

    #[test]
    fn highlight_splits_across_segments() {
        let mark = Style::default().add_modifier(ratatui::style::Modifier::REVERSED);
        let segs = vec![
            ("time out".to_string(), Style::default()),
            ("Out!".to_string(), Style::default()),
        ];
        let out = highlight(segs, &Search::new("out"), mark);
        let marked: Vec<&str> = out
            .iter()
            .filter(|(_, s)| *s == mark)
            .map(|(t, _)| t.as_str())
            .collect();
        assert_eq!(marked, vec!["out", "Out"]);
    }
}
