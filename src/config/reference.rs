//! The key reference as Markdown, generated from a keymap. The README's key table is this
//! output for `keymaps/default.toml`; a test fails when they differ.

use super::keymap::Keymap;
use crate::app::Context;

/// One table per context that has bindings, in `Context::ALL` order.
pub fn key_reference_markdown(keymap: &Keymap) -> String {
    let mut out = String::new();
    for ctx in Context::ALL {
        let bindings = keymap.bindings(*ctx);
        if bindings.is_empty() {
            continue;
        }
        out.push_str(&format!("**{}**\n\n", ctx.name()));
        out.push_str("| keys | action | what it does |\n|---|---|---|\n");
        for b in bindings {
            let keys = b
                .keys
                .iter()
                .map(|k| format!("`{}`", k.to_string().replace('|', "\\|")))
                .collect::<Vec<_>>()
                .join(" ");
            out.push_str(&format!(
                "| {keys} | `{}` | {} |\n",
                b.command.name(),
                b.description.replace('|', "\\|")
            ));
        }
        out.push('\n');
    }
    out
}
