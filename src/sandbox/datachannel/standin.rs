//! A stand-in for the simulated container shell until `sandbox::shell` lands: a prompt, echo,
//! `hostname` and `exit N`.

use std::collections::VecDeque;

use super::ContainerContext;

pub(crate) struct Shell {
    ctx: ContainerContext,
    line: Vec<u8>,
    out: VecDeque<u8>,
    exit: Option<i32>,
}

impl Shell {
    pub(crate) fn start(ctx: ContainerContext, _command: &str) -> Shell {
        let mut s = Shell {
            ctx,
            line: Vec::new(),
            out: VecDeque::new(),
            exit: None,
        };
        s.out.extend(b"# ");
        s
    }

    pub(crate) fn input(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.exit.is_some() {
                return;
            }
            match b {
                b'\r' | b'\n' => {
                    self.out.extend(b"\r\n");
                    let line = String::from_utf8_lossy(&std::mem::take(&mut self.line)).to_string();
                    self.run(line.trim());
                }
                0x7f if self.line.pop().is_some() => self.out.extend(b"\x08 \x08"),
                0x7f => {}
                _ if self.line.len() < 4096 => {
                    self.line.push(b);
                    self.out.push_back(b);
                }
                _ => {}
            }
        }
    }

    fn run(&mut self, line: &str) {
        let mut words = line.split_whitespace();
        match words.next() {
            None => {}
            Some("hostname") => {
                let h = format!("{}\r\n", self.ctx.task_id);
                self.out.extend(h.as_bytes());
            }
            Some("exit") => {
                self.exit = Some(words.next().and_then(|w| w.parse().ok()).unwrap_or(0));
                return;
            }
            Some(cmd) => {
                let e = format!("sh: {cmd}: not found\r\n");
                self.out.extend(e.as_bytes());
            }
        }
        self.out.extend(b"# ");
    }

    pub(crate) fn resize(&mut self, _cols: u16, _rows: u16) {}

    pub(crate) fn read_output(&mut self, max: usize) -> Vec<u8> {
        let n = max.min(self.out.len());
        self.out.drain(..n).collect()
    }

    pub(crate) fn exited(&self) -> Option<i32> {
        self.exit
    }
}
