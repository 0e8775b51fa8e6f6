//! Browser tests of Gongkao live in `tests/browser.rs` (harness in `tests/support/`).
//!
//! They start the real `gongkao` binary (`GONGKAO_BIN`, else `target/debug/gongkao`) with
//! `demo` data and drive Debian's Chromium through `/usr/bin/chromedriver`. Run them with
//! `cargo build -p gongkao && cargo test -p gongkao-e2e -- --test-threads=1`, as `.ci/run` does.
//! This library is intentionally empty.
