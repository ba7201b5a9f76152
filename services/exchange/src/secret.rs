//! The JWT secret of embedded mode: given, or generated once and kept in the data directory.

use std::fs;
use std::io::Write;
use std::path::Path;

use rand::RngCore;

const SECRET_FILE: &str = "jwt-secret";

/// The secret to sign tokens with.
pub fn load_or_create(data_dir: &Path, given: Option<&str>) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = given {
        return Ok(secret.as_bytes().to_vec());
    }
    let path = data_dir.join(SECRET_FILE);
    if let Ok(existing) = fs::read_to_string(&path) {
        let existing = existing.trim();
        if !existing.is_empty() {
            return Ok(existing.as_bytes().to_vec());
        }
    }
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let temporary = data_dir.join(format!("{SECRET_FILE}.tmp"));
    let mut file = fs::File::create(&temporary)?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()?;
    fs::rename(&temporary, &path)?;
    Ok(secret.into_bytes())
}

/// Refuses a data directory made with another shard count (re-sharding is a planned operation).
pub fn check_shard_count(data_dir: &Path, shard_count: u32) -> anyhow::Result<()> {
    let path = data_dir.join("shard-count");
    match fs::read_to_string(&path) {
        Ok(existing) if existing.trim() == shard_count.to_string() => Ok(()),
        Ok(existing) => anyhow::bail!(
            "{} was created with {} shards; start with --shards {} (re-sharding is not supported online)",
            data_dir.display(),
            existing.trim(),
            existing.trim()
        ),
        Err(_) => {
            fs::write(&path, shard_count.to_string())?;
            Ok(())
        }
    }
}
