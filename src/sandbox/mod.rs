//! The embedded AWS-compatible endpoint and fleet simulator (work in progress).
