//! Where the `exchange` binary under test lives.

use std::path::{Path, PathBuf};

/// The folder of the Cargo workspace this crate belongs to.
pub fn workspace_dir() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.to_path_buf(), Path::to_path_buf)
}

/// The binary to test: `EXCHANGE_BIN` if set, else `$CARGO_TARGET_DIR/debug/exchange`, else
/// `<workspace>/target/debug/exchange`. Panics with the build command when none exists.
pub fn exchange_binary() -> PathBuf {
    if let Some(explicit) = std::env::var_os("EXCHANGE_BIN") {
        let path = PathBuf::from(explicit);
        assert!(
            path.is_file(),
            "EXCHANGE_BIN={} does not exist; build it with `cargo build -p exchange`",
            path.display()
        );
        return path;
    }
    let candidates = candidate_paths();
    for path in &candidates {
        if path.is_file() {
            return path.clone();
        }
    }
    panic!(
        "the exchange binary was not found (looked at {candidates:?}); build it with \
         `cargo build -p exchange` (or run scripts/test, which builds it), or set EXCHANGE_BIN"
    );
}

fn candidate_paths() -> Vec<PathBuf> {
    let workspace = workspace_dir();
    let mut candidates = Vec::new();
    if let Some(target_dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let target_dir = workspace.join(target_dir); // join keeps an absolute path as it is
        candidates.push(target_dir.join("debug").join("exchange"));
    }
    candidates.push(workspace.join("target").join("debug").join("exchange"));
    candidates
}
