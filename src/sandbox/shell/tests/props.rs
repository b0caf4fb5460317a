//! Arbitrary keystrokes, split and read back in arbitrary sizes: no panic, bounded memory,
//! and the session can always be ended.

use proptest::prelude::*;

use super::super::{CMD_OUTPUT_CAP, HIGH_WATER, INPUT_CAP, LINE_MAX, Shell};
use super::{ctx, interactive_wrapper};

fn key_strategy() -> impl Strategy<Value = Vec<u8>> {
    let fragments: Vec<&'static [u8]> = vec![
        b"\r",
        b"\n",
        b"\x03",
        b"\x04",
        b"\x7f",
        b"\x15",
        b"\x17",
        b"\x1c",
        b"\x1a",
        b"'",
        b"\"",
        b"$",
        b"$1",
        b"${",
        b"|",
        b"&&",
        b";",
        b" ",
        b"\\",
        b">",
        b"2>&1",
        b"cat /var/lib/berth/data-10m",
        b"cat /var/lib/berth/data-1m | wc -l",
        b"sh",
        b"sh -c 'exit 4'",
        b"exit 2",
        b"exit",
        b"stty -echo",
        b"stty -onlcr",
        b"printf '%s%d%5x' a 1 2",
        b"env",
        b"ps",
        b"ls -la /",
        b"curl localhost:8080/",
        b"grep -n a /etc/hosts",
        b"echo -e '\\0101\\c'",
        b"cd ..",
        b"~",
        b"#",
    ];
    prop::collection::vec(
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..8),
            prop::sample::select(fragments).prop_map(|f| f.to_vec()),
        ],
        0..40,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_input_never_panics_and_output_stays_bounded(
        keys in key_strategy(),
        splits in prop::collection::vec(1usize..64, 1..8),
        reads in prop::collection::vec(0usize..20_000, 1..8),
        wrapper in any::<bool>(),
    ) {
        let cmd = if wrapper { interactive_wrapper() } else { "/bin/sh".to_string() };
        let mut sh = Shell::start(ctx(), &cmd);
        let mut rest = keys.as_slice();
        let mut k = 0;
        while !rest.is_empty() {
            let n = splits[k % splits.len()].min(rest.len());
            sh.input(&rest[..n]);
            rest = &rest[n..];
            let max = reads[k % reads.len()];
            let out = sh.read_output(max);
            prop_assert!(out.len() <= max);
            prop_assert!(sh.out.materialized() <= HIGH_WATER as usize + CMD_OUTPUT_CAP + 8 * LINE_MAX);
            prop_assert!(sh.input.len() <= INPUT_CAP);
            k += 1;
        }
        // Whatever happened, the session can be brought to an end.
        sh.input(b"\x03\x04\x03\x04\x03\x04");
        let mut guard = 0;
        while sh.exited().is_none() && guard < 10_000 {
            sh.read_output(1 << 20);
            sh.input(b"\x03exit\r\x04");
            guard += 1;
        }
        prop_assert!(sh.exited().is_some());
    }
}
