//! Port forwarding placeholder (filled in below).
