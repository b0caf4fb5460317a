//! The shell driven through its API as the data channel drives it (keystrokes in, terminal
//! bytes out), plus unit checks of the lexer, the parser and the calendar.

use super::clock::civil_from_days;
use super::files::{data_file, data_line};
use super::parse::{Conn, parse_script};
use super::tty::onlcr;
use super::words::{SyntaxError, lex, shell_quote};
use super::*;

mod props;

const TASK: &str = "0f4e1c2a9b8d4e7f8a1b2c3d4e5f6a7b";
const SENTINEL: &str = "__BERTH_EXIT_9f3a";

fn ctx() -> ShellContext {
    ShellContext {
        task_id: TASK.into(),
        container: "checkout-api".into(),
        image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/checkout-api:v1.4.2".into(),
        env: vec![
            ("APP_ENV".into(), "prod".into()),
            ("LOG_LEVEL".into(), "info".into()),
        ],
        secret_names: vec!["DB_PASSWORD".into(), "STRIPE_KEY".into()],
        ports: vec![8080],
        cluster: "prod".into(),
    }
}

/// berth's wrapper around an interactive shell.
fn interactive_wrapper() -> String {
    r#"sh -c 'sh -c "$1"; printf "\n%s%s:%s\n" __BERTH_ EXIT_9f3a "$?"' berth /bin/sh"#.to_string()
}

/// berth's wrapper around a scripted command.
fn scripted_wrapper(cmd: &str) -> String {
    format!(
        r#"sh -c 'stty -echo -onlcr 2>/dev/null; sh -c "$1"; printf "\n%s%s:%s\n" __BERTH_ EXIT_9f3a "$?"' berth {}"#,
        shell_quote(cmd)
    )
}

fn drain(sh: &mut Shell) -> Vec<u8> {
    let mut all = Vec::new();
    loop {
        let chunk = sh.read_output(8192);
        if chunk.is_empty() {
            return all;
        }
        all.extend_from_slice(&chunk);
    }
}

fn text(sh: &mut Shell) -> String {
    String::from_utf8_lossy(&drain(sh)).into_owned()
}

fn typed(sh: &mut Shell, keys: &str) -> String {
    sh.input(keys.as_bytes());
    text(sh)
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn wrapper_interactive_runs_hostname_and_reports_exit_3() {
    let mut sh = Shell::start(ctx(), &interactive_wrapper());
    assert_eq!(text(&mut sh), "/ # ");
    let out = typed(&mut sh, "hostname\r");
    assert_eq!(out, format!("hostname\r\n{TASK}\r\n/ # "));
    assert_eq!(sh.exited(), None);
    let out = typed(&mut sh, "exit 3\r");
    assert_eq!(out, format!("exit 3\r\n\r\n{SENTINEL}:3\r\n"));
    // The outer `sh -c` ends with printf's status; berth reads the sentinel.
    assert_eq!(sh.exited(), Some(0));
    sh.input(b"more\r");
    assert_eq!(sh.read_output(100), b"");
}

#[test]
fn wrapper_scripted_mode_has_no_echo_or_cr() {
    let mut sh = Shell::start(ctx(), &scripted_wrapper("cat /etc/os-release"));
    let out = text(&mut sh);
    assert!(
        out.starts_with("NAME=\"Alpine Linux\"\nID=alpine\n"),
        "{out}"
    );
    assert!(out.ends_with(&format!("\n\n{SENTINEL}:0\n")), "{out}");
    assert!(!out.contains('\r'));
    assert_eq!(sh.exited(), Some(0));

    let mut sh = Shell::start(ctx(), &scripted_wrapper("cat /nope; true"));
    let out = text(&mut sh);
    assert_eq!(
        out,
        format!("cat: /nope: No such file or directory\n\n{SENTINEL}:0\n")
    );
    let mut sh = Shell::start(ctx(), &scripted_wrapper("cat /nope"));
    assert!(text(&mut sh).ends_with(&format!("{SENTINEL}:1\n")));
}

#[test]
fn debian_images_get_a_debian_os_release() {
    let mut c = ctx();
    c.image = "python:3.12-slim-bookworm".into();
    let mut sh = Shell::start(c, "cat /etc/os-release");
    assert!(text(&mut sh).contains("ID=debian\r\n"));
}

#[test]
fn stty_size_follows_resize() {
    let mut sh = Shell::start(ctx(), "/bin/sh");
    text(&mut sh);
    assert!(typed(&mut sh, "stty size\r").contains("\r\n24 80\r\n"));
    sh.resize(120, 40);
    assert_eq!(typed(&mut sh, "stty size\r"), "stty size\r\n40 120\r\n/ # ");
}

#[test]
fn env_lists_secret_names_without_values() {
    let mut sh = Shell::start(ctx(), "env");
    let out = text(&mut sh);
    let lines: Vec<&str> = out.split("\r\n").collect();
    for want in [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        &format!("HOSTNAME={TASK}"),
        "APP_ENV=prod",
        "LOG_LEVEL=info",
        "DB_PASSWORD=",
        "STRIPE_KEY=",
        "HOME=/root",
    ] {
        assert!(lines.contains(&want), "{want} missing in {out:?}");
    }
    assert_eq!(sh.exited(), Some(0));
    // `$SECRET` expands to nothing too.
    let mut sh = Shell::start(ctx(), r#"sh -c 'echo "[$DB_PASSWORD]" $APP_ENV'"#);
    assert_eq!(text(&mut sh), "[] prod\r\n");
}

#[test]
fn data_1m_is_one_mib_and_sha256sum_matches_cat() {
    let mut sh = Shell::start(ctx(), &scripted_wrapper("cat /var/lib/berth/data-1m"));
    let out = drain(&mut sh);
    let tail = format!("\n{SENTINEL}:0\n");
    assert!(out.ends_with(tail.as_bytes()));
    let data = &out[..out.len() - tail.len()];
    assert_eq!(data.len(), 1_048_576);
    assert!(
        data.iter()
            .all(|&b| b == b'\n' || (0x20..0x7f).contains(&b))
    );
    assert_eq!(data, data_file(1 << 20).collect::<Vec<u8>>().as_slice());
    assert_eq!(&data[..64], &data_line(0));
    assert_eq!(data.iter().filter(|&&b| b == b'\n').count(), 16_384);

    let mut sh = Shell::start(ctx(), &scripted_wrapper("sha256sum /var/lib/berth/data-1m"));
    let want = format!(
        "{}  /var/lib/berth/data-1m\n\n{SENTINEL}:0\n",
        sha256_hex(data)
    );
    assert_eq!(text(&mut sh), want);

    let mut sh = Shell::start(
        ctx(),
        &scripted_wrapper("wc -c /var/lib/berth/data-1m; head -c 70 /var/lib/berth/data-1m"),
    );
    let out = drain(&mut sh);
    let mut want = b"1048576 /var/lib/berth/data-1m\n".to_vec();
    want.extend_from_slice(&data[..70]);
    want.extend_from_slice(tail.as_bytes());
    assert_eq!(out, want);
}

#[test]
fn data_10m_streams_in_bounded_memory() {
    const SIZE: usize = 10_485_760;
    let mut sh = Shell::start(
        ctx(),
        "sh -c 'stty -onlcr; cat /var/lib/berth/data-10m; echo done'",
    );
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    let mut total = 0usize;
    let mut after = Vec::new();
    loop {
        assert!(sh.out.materialized() <= 2 * HIGH_WATER as usize);
        let chunk = sh.read_output(65_536);
        if chunk.is_empty() {
            break;
        }
        let data = chunk.len().min(SIZE.saturating_sub(total));
        digest.update(&chunk[..data]);
        after.extend_from_slice(&chunk[data..]);
        total += chunk.len();
    }
    assert_eq!(total, SIZE + "done\n".len());
    assert_eq!(after, b"done\n");
    assert_eq!(sh.exited(), Some(0));
    let streamed: String = digest
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();

    let mut sh = Shell::start(
        ctx(),
        "sh -c 'stty -onlcr; sha256sum /var/lib/berth/data-10m'",
    );
    assert_eq!(
        text(&mut sh),
        format!("{streamed}  /var/lib/berth/data-10m\n")
    );
}

#[test]
fn onlcr_on_and_off() {
    let mut sh = Shell::start(ctx(), "sh -c 'echo a; echo b'");
    assert_eq!(text(&mut sh), "a\r\nb\r\n");
    let mut sh = Shell::start(
        ctx(),
        "sh -c 'echo a; stty -onlcr; echo b; stty onlcr; echo c'",
    );
    assert_eq!(text(&mut sh), "a\r\nb\nc\r\n");
    // Echo of the typed newline follows the setting too.
    let mut sh = Shell::start(ctx(), "sh");
    text(&mut sh);
    assert_eq!(typed(&mut sh, "stty -onlcr\r"), "stty -onlcr\r\n/ # ");
    assert_eq!(typed(&mut sh, "pwd\r"), "pwd\n/\n/ # ");
}

#[test]
fn stty_echo_toggles_echo() {
    let mut sh = Shell::start(ctx(), "sh");
    text(&mut sh);
    assert_eq!(typed(&mut sh, "stty -echo\r"), "stty -echo\r\n/ # ");
    assert_eq!(typed(&mut sh, "whoami\r"), "root\r\n/ # ");
    assert_eq!(typed(&mut sh, "stty echo\r"), "/ # ");
    assert_eq!(
        typed(&mut sh, "id\r"),
        "id\r\nuid=0(root) gid=0(root) groups=0(root)\r\n/ # "
    );
}

#[test]
fn ctrl_c_prints_caret_c_and_a_new_prompt() {
    let mut sh = Shell::start(ctx(), &interactive_wrapper());
    text(&mut sh);
    assert_eq!(typed(&mut sh, "echo half"), "echo half");
    assert_eq!(typed(&mut sh, "\x03"), "^C\r\n/ # ");
    assert_eq!(typed(&mut sh, "echo $?\r"), "echo $?\r\n130\r\n/ # ");
    // Ctrl-\ and Ctrl-Z are shown and otherwise ignored.
    assert_eq!(typed(&mut sh, "ab\x1c\x1a"), "ab^\\^Z");
    assert_eq!(
        typed(&mut sh, "\x15true\r"),
        "\x08 \x08\x08 \x08true\r\n/ # "
    );
    assert_eq!(sh.exited(), None);
}

#[test]
fn ctrl_c_interrupts_a_long_cat() {
    let mut sh = Shell::start(ctx(), &interactive_wrapper());
    text(&mut sh);
    sh.input(b"cat /var/lib/berth/data-10m\r");
    let first = sh.read_output(100_000);
    assert_eq!(first.len(), 100_000);
    sh.input(b"\x03");
    let rest = text(&mut sh);
    assert!(rest.len() < 200_000, "{}", rest.len());
    assert!(
        rest.ends_with("^C\r\n/ # "),
        "{:?}",
        &rest[rest.len().saturating_sub(40)..]
    );
    assert_eq!(
        typed(&mut sh, "exit\r"),
        format!("exit\r\n\r\n{SENTINEL}:130\r\n")
    );

    // Without an interactive shell, ^C ends the session.
    let mut sh = Shell::start(ctx(), &scripted_wrapper("cat /var/lib/berth/data-10m"));
    assert!(!sh.read_output(10).is_empty());
    sh.input(b"\x03");
    let rest = drain(&mut sh);
    assert!(rest.len() < 200_000);
    assert!(!String::from_utf8_lossy(&rest).contains(SENTINEL));
    assert_eq!(sh.exited(), Some(130));
}

#[test]
fn unknown_command_is_127() {
    let mut sh = Shell::start(ctx(), &interactive_wrapper());
    text(&mut sh);
    assert_eq!(
        typed(&mut sh, "frobnicate --now\r"),
        "frobnicate --now\r\nsh: frobnicate: not found\r\n/ # "
    );
    assert_eq!(typed(&mut sh, "echo $?\r"), "echo $?\r\n127\r\n/ # ");
    let mut sh = Shell::start(ctx(), &scripted_wrapper("vim /etc/hosts"));
    assert_eq!(
        text(&mut sh),
        format!("sh: vim: not found\n\n{SENTINEL}:127\n")
    );
    // The agent itself runs a bare command: no shell to say "not found".
    let mut sh = Shell::start(ctx(), "vim");
    assert!(text(&mut sh).contains("executable file not found in $PATH"));
    assert_eq!(sh.exited(), Some(127));
}

#[test]
fn exit_without_argument_uses_the_last_status() {
    let mut sh = Shell::start(ctx(), "sh -c 'false; exit'");
    assert_eq!(text(&mut sh), "");
    assert_eq!(sh.exited(), Some(1));
    let mut sh = Shell::start(ctx(), &interactive_wrapper());
    text(&mut sh);
    typed(&mut sh, "cat /missing\r");
    assert!(typed(&mut sh, "exit\r").ends_with(&format!("{SENTINEL}:1\r\n")));
    let mut sh = Shell::start(ctx(), "/bin/bash");
    text(&mut sh);
    typed(&mut sh, "true\r");
    assert_eq!(typed(&mut sh, "exit\r"), "exit\r\n");
    assert_eq!(sh.exited(), Some(0));
}

#[test]
fn ctrl_d_on_an_empty_line_exits() {
    let mut sh = Shell::start(ctx(), "sh");
    text(&mut sh);
    typed(&mut sh, "false\r");
    assert_eq!(typed(&mut sh, "ab\x04"), "ab");
    assert_eq!(sh.exited(), None);
    assert_eq!(typed(&mut sh, "\x7f\x7f\x04"), "\x08 \x08\x08 \x08");
    assert_eq!(sh.exited(), Some(1));
}

#[test]
fn bare_commands_run_once() {
    let mut sh = Shell::start(ctx(), "hostname");
    assert_eq!(text(&mut sh), format!("{TASK}\r\n"));
    assert_eq!(sh.exited(), Some(0));
    let mut sh = Shell::start(ctx(), "cat /etc/nothing");
    assert_eq!(
        text(&mut sh),
        "cat: /etc/nothing: No such file or directory\r\n"
    );
    assert_eq!(sh.exited(), Some(1));
    let mut sh = Shell::start(ctx(), "ls /var/lib/berth");
    assert_eq!(text(&mut sh), "data-10m  data-1m\r\n");
}

#[test]
fn curl_reaches_only_the_task_ports() {
    let mut sh = Shell::start(ctx(), "curl -s localhost:8080/healthz");
    assert_eq!(text(&mut sh), format!("ok {TASK}\r\n"));
    assert_eq!(sh.exited(), Some(0));
    let mut sh = Shell::start(ctx(), "curl http://localhost:9000/healthz");
    assert_eq!(
        text(&mut sh),
        "curl: (7) Failed to connect to localhost port 9000 after 0 ms: Couldn't connect to server\r\n"
    );
    assert_eq!(sh.exited(), Some(7));
    // -s hides the message (as curl does), -S brings it back.
    let mut sh = Shell::start(ctx(), "curl -s localhost:9000/healthz");
    assert_eq!(text(&mut sh), "");
    assert_eq!(sh.exited(), Some(7));
    let mut sh = Shell::start(ctx(), "curl -sS localhost:9000/");
    assert!(text(&mut sh).starts_with("curl: (7)"));
    let mut sh = Shell::start(
        ctx(),
        "sh -c 'curl -s -o /dev/null -w \"%{http_code}\" http://127.0.0.1:8080/healthz'",
    );
    assert_eq!(text(&mut sh), "200");
    let mut sh = Shell::start(ctx(), "wget -qO- http://localhost:8080/healthz");
    assert_eq!(text(&mut sh), format!("ok {TASK}\r\n"));
}

#[test]
fn words_split_like_a_posix_shell() {
    let mut sh = Shell::start(
        ctx(),
        r#"sh -c 'printf "[%s]" "$@" a\ b "c  d" '"'"'e'"'"' $0; printf "%s|%d|%5s|%-3s|%03d|%x\n" x 42 r l 7 255' zero "one two" "" three"#,
    );
    assert_eq!(
        text(&mut sh),
        "[one two][][three][a b][c  d][e][zero]x|42|    r|l  |007|ff\r\n"
    );
    let mut sh = Shell::start(
        ctx(),
        r#"sh -c 'X="a  b"; printf "<%s>" $X "$X" ${UNSET:-dflt} ~; echo'"#,
    );
    assert_eq!(text(&mut sh), "<a><b><a  b><dflt></root>\r\n");
    let mut sh = Shell::start(
        ctx(),
        r#"sh -c 'false && echo no || echo yes; true || echo no; echo $?'"#,
    );
    assert_eq!(text(&mut sh), "yes\r\n0\r\n");
    let mut sh = Shell::start(
        ctx(),
        r#"sh -c 'echo out >/dev/null; cat /nope 2>/dev/null; echo $?; cat /nope >/dev/null 2>&1 || echo quiet'"#,
    );
    assert_eq!(text(&mut sh), "1\r\nquiet\r\n");
    let mut sh = Shell::start(ctx(), "sh -c 'echo \"unterminated'");
    assert_eq!(
        text(&mut sh),
        "sh: syntax error: unexpected end of file\r\n"
    );
    assert_eq!(sh.exited(), Some(2));
}

#[test]
fn nested_shells_and_exec() {
    let mut sh = Shell::start(
        ctx(),
        "sh -c 'sh -c \"exit 4\"; echo $?; exec sh -c \"exit 5\"; echo never'",
    );
    assert_eq!(text(&mut sh), "4\r\n");
    assert_eq!(sh.exited(), Some(5));
    // An interactive sub-shell inside an interactive shell.
    let mut sh = Shell::start(ctx(), "sh");
    text(&mut sh);
    typed(&mut sh, "cd /etc\r");
    assert_eq!(typed(&mut sh, "sh\r"), "sh\r\n/etc # ");
    assert_eq!(typed(&mut sh, "exit 9\r"), "exit 9\r\n/etc # ");
    assert_eq!(typed(&mut sh, "echo $?\r"), "echo $?\r\n9\r\n/etc # ");
}

#[test]
fn pipes_and_filters() {
    let mut sh = Shell::start(
        ctx(),
        "sh -c 'env | grep -c _; ps | grep ssm-agent-worker | wc -l; cat /var/lib/berth/data-10m | wc -c; head -n 2 /var/lib/berth/data-1m | tail -n 1 | cut'",
    );
    let out = text(&mut sh);
    // `ps | grep` also finds the shell running the pipeline, as on a real box.
    assert!(
        out.starts_with("4\r\n2\r\n10485760\r\nsh: cut: not found\r\n"),
        "{out}"
    );
    let mut sh = Shell::start(ctx(), "sh -c 'tail -c 64 /var/lib/berth/data-1m'");
    let line = data_line(16_383);
    assert_eq!(text(&mut sh).as_bytes(), onlcr(&line).as_slice());
}

#[test]
fn continuation_lines_and_syntax_errors() {
    let mut sh = Shell::start(ctx(), "sh");
    text(&mut sh);
    assert_eq!(typed(&mut sh, "echo 'a\r"), "echo 'a\r\n> ");
    assert_eq!(typed(&mut sh, "b'\r"), "b'\r\na\r\nb\r\n/ # ");
    assert_eq!(
        typed(&mut sh, "&& x\r"),
        "&& x\r\nsh: syntax error: unexpected \"&&\"\r\n/ # "
    );
    assert_eq!(
        typed(&mut sh, "echo $(id)\r").lines().nth(1),
        Some("sh: syntax error: command substitution is not simulated in the berth sandbox")
    );
}

#[test]
fn line_is_capped_and_bytes_are_echoed_safely() {
    let mut sh = Shell::start(ctx(), "sh");
    text(&mut sh);
    sh.input(&vec![b'x'; 10_000]);
    let out = drain(&mut sh);
    assert_eq!(out.len(), LINE_MAX);
    let out = typed(&mut sh, "\r");
    assert!(out.contains(&format!("sh: {}: not found", "x".repeat(LINE_MAX))));
    // Invalid UTF-8 and escape sequences do not break anything.
    sh.input(b"\xff\xfe\x1b[A\r");
    let out = text(&mut sh);
    assert!(
        out.starts_with("\u{fffd}\u{fffd}^[[A\r\n") || out.contains("^[[A"),
        "{out:?}"
    );
    // Backspace over a multi-byte character removes all of it.
    sh.input("é\x7fecho ok\r".as_bytes());
    assert!(text(&mut sh).ends_with("ok\r\n/ # "));
}

#[test]
fn shell_can_move_between_threads() {
    fn send<T: Send + 'static>() {}
    send::<Shell>();
}

#[test]
fn lexer_and_parser_units() {
    let items = parse_script("a 2>/dev/null; b && c || d | e\n# comment\nf").unwrap();
    let conns: Vec<Conn> = items.iter().map(|i| i.conn).collect();
    assert_eq!(
        conns,
        [Conn::Seq, Conn::Seq, Conn::And, Conn::Or, Conn::Seq]
    );
    assert_eq!(items[0].pipeline[0].redirs[0].fd, Some(2));
    assert_eq!(items[3].pipeline.len(), 2);
    assert_eq!(parse_script("a &&"), Err(SyntaxError::Incomplete));
    assert_eq!(parse_script("a |\n b").map(|i| i.len()), Ok(1));
    assert!(matches!(parse_script("; a"), Err(SyntaxError::Bad(_))));
    // Without operators (the agent's split), `;` is an ordinary character.
    let toks = lex("a;b 'c d'", false).unwrap();
    assert_eq!(toks.len(), 2);
    assert_eq!(civil_from_days(0), (1970, 1, 1));
    assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    assert_eq!(civil_from_days(20_513), (2026, 3, 1));
}

#[test]
fn date_uses_the_clock() {
    let mut sh = Shell::start(ctx(), "sh");
    text(&mut sh);
    sh.set_clock(1_796_406_894_000); // 2026-12-04 17:54:54 UTC, a Friday
    assert_eq!(
        typed(&mut sh, "date\r"),
        "date\r\nFri Dec  4 17:54:54 UTC 2026\r\n/ # "
    );
    assert_eq!(
        typed(&mut sh, "date +%F\r"),
        "date +%F\r\n2026-12-04\r\n/ # "
    );
}
