//! Log line generation (placeholder).
