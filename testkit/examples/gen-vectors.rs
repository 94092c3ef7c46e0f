//! Writes the test vectors of `tests/vectors/` from its committed keys (FORMATS.md; the
//! `vectors` test checks the committed files are what this writes).
//!
//! ```text
//! cargo run -p axis-testkit --example gen-vectors              # rewrite every vector (and make
//!                                                               # the keys KEYS adds, if any)
//! cargo run -p axis-testkit --example gen-vectors -- --new-keys # new keys first (all bytes change)
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_testkit::vectors;

fn main() {
    let dir = vectors::dir();
    // New keys if asked; else only those added to `vectors::KEYS` since the last run.
    let replace = std::env::args().any(|a| a == "--new-keys");
    vectors::generate_keys(&dir, replace).unwrap();
    let keys = vectors::Keys::load(&dir);
    let files = vectors::build(&keys);
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    println!("{} files written to {}", files.len(), dir.display());
}
