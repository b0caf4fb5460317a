//! Bindable commands: what a key can do. Keymaps name these in snake_case.
//!
//! Commands are plain data: the reducer decides what each means in the current view. Adding a
//! command means adding it here, to `ALL`, to `keymaps/default.toml` (with a description), and
//! handling it in `update`.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    Quit,
    Help,
    Refresh,
    Back,
    Select,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    DismissBanner,
    Filter,
    CommandMode,
    PreviousView,
    SortNext,
    SortReverse,
    CopyId,
    CopyArn,
    CopyIp,
    ShowDeployments,
    ShowEvents,
    ShowTasks,
    ShowNetwork,
    ToggleStopped,
    ToggleRaw,
    ShowLogs,
    Search,
    SearchNext,
    SearchPrev,
    ErrorsOnly,
    WarningsUp,
    Pivot,
    ToggleFollow,
    ToggleWrap,
    ToggleTimestamps,
    LoadOlder,
    CycleContainer,
    SaveLogs,
    ForceDeploy,
    Scale,
    RollBack,
    StopTask,
    ShowStopCauses,
    Exec,
    PortForward,
    StopForward,
    ShowTimeline,
    CycleWindow,
    Export,
    ShowDiff,
    FocusHistory,
    ShowInstances,
}

impl Command {
    /// Every command, in the order the help screen lists them.
    pub const ALL: &'static [Command] = &[
        Command::Quit,
        Command::Help,
        Command::Refresh,
        Command::Back,
        Command::Select,
        Command::Up,
        Command::Down,
        Command::PageUp,
        Command::PageDown,
        Command::Top,
        Command::Bottom,
        Command::DismissBanner,
        Command::Filter,
        Command::CommandMode,
        Command::PreviousView,
        Command::SortNext,
        Command::SortReverse,
        Command::CopyId,
        Command::CopyArn,
        Command::CopyIp,
        Command::ShowDeployments,
        Command::ShowEvents,
        Command::ShowTasks,
        Command::ShowNetwork,
        Command::ToggleStopped,
        Command::ToggleRaw,
        Command::ShowLogs,
        Command::Search,
        Command::SearchNext,
        Command::SearchPrev,
        Command::ErrorsOnly,
        Command::WarningsUp,
        Command::Pivot,
        Command::ToggleFollow,
        Command::ToggleWrap,
        Command::ToggleTimestamps,
        Command::LoadOlder,
        Command::CycleContainer,
        Command::SaveLogs,
        Command::ForceDeploy,
        Command::Scale,
        Command::RollBack,
        Command::StopTask,
        Command::ShowStopCauses,
        Command::Exec,
        Command::PortForward,
        Command::StopForward,
        Command::ShowTimeline,
        Command::CycleWindow,
        Command::Export,
        Command::ShowDiff,
        Command::FocusHistory,
        Command::ShowInstances,
    ];

    /// The snake_case name keymaps use.
    pub fn name(self) -> &'static str {
        match self {
            Command::Quit => "quit",
            Command::Help => "help",
            Command::Refresh => "refresh",
            Command::Back => "back",
            Command::Select => "select",
            Command::Up => "up",
            Command::Down => "down",
            Command::PageUp => "page_up",
            Command::PageDown => "page_down",
            Command::Top => "top",
            Command::Bottom => "bottom",
            Command::DismissBanner => "dismiss_banner",
            Command::Filter => "filter",
            Command::CommandMode => "command_mode",
            Command::PreviousView => "previous_view",
            Command::SortNext => "sort_next",
            Command::SortReverse => "sort_reverse",
            Command::CopyId => "copy_id",
            Command::CopyArn => "copy_arn",
            Command::CopyIp => "copy_ip",
            Command::ShowDeployments => "show_deployments",
            Command::ShowEvents => "show_events",
            Command::ShowTasks => "show_tasks",
            Command::ShowNetwork => "show_network",
            Command::ToggleStopped => "toggle_stopped",
            Command::ToggleRaw => "toggle_raw",
            Command::ShowLogs => "show_logs",
            Command::Search => "search",
            Command::SearchNext => "search_next",
            Command::SearchPrev => "search_prev",
            Command::ErrorsOnly => "errors_only",
            Command::WarningsUp => "warnings_up",
            Command::Pivot => "pivot",
            Command::ToggleFollow => "toggle_follow",
            Command::ToggleWrap => "toggle_wrap",
            Command::ToggleTimestamps => "toggle_timestamps",
            Command::LoadOlder => "load_older",
            Command::CycleContainer => "cycle_container",
            Command::SaveLogs => "save_logs",
            Command::ForceDeploy => "force_deploy",
            Command::Scale => "scale",
            Command::RollBack => "roll_back",
            Command::StopTask => "stop_task",
            Command::ShowStopCauses => "show_stop_causes",
            Command::Exec => "exec",
            Command::PortForward => "port_forward",
            Command::StopForward => "stop_forward",
            Command::ShowTimeline => "show_timeline",
            Command::CycleWindow => "cycle_window",
            Command::Export => "export",
            Command::ShowDiff => "show_diff",
            Command::FocusHistory => "focus_history",
            Command::ShowInstances => "show_instances",
        }
    }

    pub fn from_name(name: &str) -> Option<Command> {
        Command::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// Commands that change AWS resources: confirmed, refused in read-only mode (in the
    /// reducer and again where effects run), audited.
    pub fn is_mutating(self) -> bool {
        matches!(
            self,
            Command::ForceDeploy | Command::Scale | Command::RollBack | Command::StopTask
        )
    }

    /// Commands disabled in read-only mode: the mutating ones and the sessions (exec, port
    /// forwarding).
    pub fn is_guarded(self) -> bool {
        self.is_mutating() || matches!(self, Command::Exec | Command::PortForward)
    }
}

/// Where a binding applies. `Global` bindings work everywhere unless the focused context
/// binds the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Global,
    Clusters,
    Services,
    Deployments,
    Events,
    Tasks,
    Network,
    TaskDetail,
    Logs,
    Stopped,
    Audit,
    Forwards,
    Timeline,
    Diff,
    ClusterEvents,
    Instances,
    Fleet,
    Help,
}

impl Context {
    pub const ALL: &'static [Context] = &[
        Context::Global,
        Context::Clusters,
        Context::Services,
        Context::Deployments,
        Context::Events,
        Context::Tasks,
        Context::Network,
        Context::TaskDetail,
        Context::Logs,
        Context::Stopped,
        Context::Audit,
        Context::Forwards,
        Context::Timeline,
        Context::Diff,
        Context::ClusterEvents,
        Context::Instances,
        Context::Fleet,
        Context::Help,
    ];

    /// The section name in a keymap file.
    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Clusters => "clusters",
            Context::Services => "services",
            Context::Deployments => "deployments",
            Context::Events => "events",
            Context::Tasks => "tasks",
            Context::Network => "network",
            Context::TaskDetail => "task_detail",
            Context::Logs => "logs",
            Context::Stopped => "stopped",
            Context::Audit => "audit",
            Context::Forwards => "forwards",
            Context::Timeline => "timeline",
            Context::Diff => "diff",
            Context::ClusterEvents => "cluster_events",
            Context::Instances => "instances",
            Context::Fleet => "fleet",
            Context::Help => "help",
        }
    }

    pub fn from_name(name: &str) -> Option<Context> {
        Context::ALL.iter().copied().find(|c| c.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Command::ALL {
            assert_eq!(Command::from_name(c.name()), Some(*c));
        }
        for c in Context::ALL {
            assert_eq!(Context::from_name(c.name()), Some(*c));
        }
        assert_eq!(Command::from_name("no_such_command"), None);
    }
}
