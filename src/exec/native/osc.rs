//! A remote shell's output goes to the user's terminal, so it may move the cursor and draw
//! (that is what a shell is for), but it may not set the clipboard (OSC 52), change the window
//! title (OSC 0/1/2) or send any other operating-system command, nor device-control strings
//! (DCS, `ESC P`): these are removed as they stream by, across message boundaries. A sequence
//! that never ends is dropped after [`MAX_SEQUENCE`] bytes and the filter starts over, so a
//! hostile stream cannot make it hold output (or memory) without bound.

pub const MAX_SEQUENCE: usize = 4096;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Text,
    /// After ESC.
    Escape,
    /// Inside an OSC or DCS string.
    Swallow,
    /// ESC inside a string (ST is `ESC \`).
    SwallowEscape,
}

#[derive(Debug, Default)]
pub struct OscFilter {
    state: State,
    swallowed: usize,
}

impl OscFilter {
    pub fn new() -> OscFilter {
        OscFilter::default()
    }

    pub fn feed(&mut self, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            match self.state {
                State::Text => {
                    if b == 0x1b {
                        self.state = State::Escape;
                    } else {
                        out.push(b);
                    }
                }
                State::Escape => match b {
                    b']' | b'P' | b'X' | b'^' | b'_' => {
                        self.state = State::Swallow;
                        self.swallowed = 0;
                    }
                    0x1b => out.push(0x1b),
                    _ => {
                        out.push(0x1b);
                        out.push(b);
                        self.state = State::Text;
                    }
                },
                State::Swallow | State::SwallowEscape => {
                    self.swallowed += 1;
                    let ended = b == 0x07 || (self.state == State::SwallowEscape && b == b'\\');
                    if ended || self.swallowed >= MAX_SEQUENCE {
                        self.state = State::Text;
                    } else {
                        self.state = if b == 0x1b {
                            State::SwallowEscape
                        } else {
                            State::Swallow
                        };
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(chunks: &[&[u8]]) -> Vec<u8> {
        let mut f = OscFilter::new();
        chunks.iter().flat_map(|c| f.feed(c)).collect()
    }

    #[test]
    fn title_clipboard_and_dcs_are_removed_and_drawing_kept() {
        let out = run(&[
            b"a\x1b]0;pwned\x07b\x1b]52;c;aGVsbG8=\x1b\\c\x1bPq#0\x1b\\d\x1b[2J\x1b[1;1H\x1b[31me",
        ]);
        assert_eq!(out, b"abcd\x1b[2J\x1b[1;1H\x1b[31me".to_vec());
    }

    #[test]
    fn a_sequence_split_across_messages_is_still_removed() {
        let whole = b"x\x1b]2;title\x1b\\y";
        for cut in 0..whole.len() {
            assert_eq!(
                run(&[&whole[..cut], &whole[cut..]]),
                b"xy".to_vec(),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn an_endless_sequence_is_dropped_and_output_resumes() {
        let mut f = OscFilter::new();
        let mut junk = b"\x1b]52;c;".to_vec();
        junk.extend(std::iter::repeat_n(b'A', MAX_SEQUENCE * 2));
        let out = f.feed(&junk);
        assert!(out.len() <= MAX_SEQUENCE + 8, "{}", out.len());
        assert!(!out.windows(3).any(|w| w == b"]52"));
        assert_eq!(f.feed(b"ok"), b"ok".to_vec());
    }

    proptest! {
        #[test]
        fn no_osc_introducer_ever_passes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let out = OscFilter::new().feed(&bytes);
            prop_assert!(!out.windows(2).any(|w| w == b"\x1b]" || w == b"\x1bP"));
        }
    }
}
