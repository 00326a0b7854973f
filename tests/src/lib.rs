//! Integration tests and examples of the workspace; nothing to import.
