//! config.toml's `[console]` table read from a user directory as berth reads it: the ECS Exec
//! client (`exec_client`), and a bad value reported with the file, line and what is wrong.

use berth::config::settings::UserConfig;
use berth::exec::client::ExecClient;

fn user_dir_with(contents: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("config.toml"), contents).unwrap_or_else(|e| panic!("{e}"));
    dir
}

#[test]
fn exec_client_is_read_from_config_toml() {
    for (value, want) in [
        ("auto", ExecClient::Auto),
        ("native", ExecClient::Native),
        ("plugin", ExecClient::Plugin),
    ] {
        let dir = user_dir_with(&format!(
            "[console]\nrefresh = 10\nexec_client = \"{value}\"\n"
        ));
        let c = UserConfig::load(Some(dir.path())).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(c.console.exec_client, Some(want), "{value}");
        assert_eq!(c.console.refresh, Some(10));
    }
    // not written: the flag decides, else auto
    let dir = user_dir_with("[console]\nread_only = true\n");
    let c = UserConfig::load(Some(dir.path())).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(c.console.exec_client, None);
    assert_eq!(ExecClient::default(), ExecClient::Auto);
}

#[test]
fn a_bad_exec_client_names_the_file_and_line() {
    let dir = user_dir_with("[console]\nrefresh = 10\n\nexec_client = \"natve\"\n");
    let errors = UserConfig::load(Some(dir.path()))
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    let path = dir.path().join("config.toml");
    assert_eq!(e.origin, path.display().to_string());
    assert_eq!((e.line, e.column), (4, 15), "{e}");
    assert!(e.is_error());
    assert_eq!(e.snippet, "\"natve\"");
    assert_eq!(
        e.to_string(),
        format!(
            "{}:4:15: error: exec_client = \"natve\" (did you mean \"native\"?): must be \"auto\", \"native\" or \"plugin\"",
            path.display()
        )
    );
    // not a string at all
    let dir = user_dir_with("[console]\nexec_client = 1\n");
    let errors = UserConfig::load(Some(dir.path()))
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert_eq!(errors[0].line, 2, "{}", errors[0]);
}
