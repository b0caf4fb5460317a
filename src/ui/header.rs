//! Two header lines: who/where (profile, region, account, identity) and where in the console.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{IdentityState, State};
use crate::config::theme::{Slot, Theme};
use crate::text::sanitize;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let session = &state.session;
    let muted = theme.style(Slot::Muted);
    let text = theme.style(Slot::Text);
    let mut who = vec![
        Span::styled(" berth ", theme.style(Slot::Title)),
        Span::raw(" "),
    ];
    // First, so a narrow terminal never cuts them off. On the fleet: the selected row's
    // account, not the session's.
    if let crate::app::View::Pane(p) = state.view()
        && let Some(note) = p.header_note(state)
    {
        who.push(Span::styled(
            format!(" {} ", sanitize(&note)),
            theme.style(Slot::Danger),
        ));
        who.push(Span::raw(" "));
    }
    if session.read_only {
        who.push(Span::styled("READ-ONLY", theme.style(Slot::Info)));
        who.push(Span::raw(" "));
    }
    if session.protected {
        who.push(Span::styled(" PRODUCTION ", theme.style(Slot::Danger)));
        who.push(Span::raw(" "));
    }
    // Open port forwards: a reminder that something still listens locally.
    let forwards = crate::app::exec::active_forwards(state);
    if forwards > 0 {
        who.push(Span::styled(
            format!("⇄ {forwards} fwd"),
            theme.style(Slot::Warning),
        ));
        who.push(Span::raw(" "));
    }

    let profile = session.target.profile.as_deref().unwrap_or("default");
    if session.demo {
        who.push(Span::styled("demo sandbox", theme.style(Slot::Accent)));
    } else {
        who.push(Span::styled(sanitize(profile).into_owned(), text));
    }
    who.push(Span::styled(" · ", muted));
    match &session.region {
        Some(region) => who.push(Span::styled(sanitize(region).into_owned(), text)),
        None if matches!(&session.identity, IdentityState::Failed(e) if e.kind == crate::aws::ErrorKind::NoRegion) => {
            who.push(Span::styled("no region", theme.style(Slot::Error)))
        }
        None => who.push(Span::styled("region…", muted)),
    }
    who.push(Span::styled(" · ", muted));
    match &session.identity {
        IdentityState::Known(id) => {
            who.push(Span::styled(sanitize(&id.account).into_owned(), text));
            who.push(Span::styled(" · ", muted));
            who.push(Span::styled(sanitize(id.short_name()).into_owned(), muted));
        }
        IdentityState::Pending => who.push(Span::styled("identity…", muted)),
        IdentityState::Failed(_) => {
            who.push(Span::styled("identity unknown", theme.style(Slot::Error)))
        }
    }
    let mut crumbs = Vec::new();
    for (i, crumb) in state.breadcrumbs().iter().enumerate() {
        if i > 0 {
            crumbs.push(Span::styled(" › ", muted));
        }
        crumbs.push(Span::styled(
            sanitize(crumb).into_owned(),
            theme.style(Slot::Header),
        ));
    }
    crumbs.insert(0, Span::raw(" "));
    if state.is_loading() {
        crumbs.push(Span::styled(
            format!("  {} loading", super::spinner(state)),
            muted,
        ));
    }

    frame.render_widget(
        Paragraph::new(vec![Line::from(who), Line::from(crumbs)]),
        area,
    );
}
