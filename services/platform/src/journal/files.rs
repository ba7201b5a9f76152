//! The files of a journal in its directory: generation G is the snapshot `{name}-G.snapshot`
//! (absent for generation 0: the empty state) followed by the records of `{name}-G.journal`.
//! A snapshot is written to a temporary name, synced and renamed, so a snapshot file that exists
//! is whole; the newest one decides the generation and every older file is deleted.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::frame;

/// The files of one journal.
#[derive(Debug, Clone)]
pub struct Layout {
    dir: PathBuf,
    name: String,
}

/// What a journal held when it was opened.
#[derive(Debug, Default)]
pub struct Recovered {
    /// The newest snapshot's bytes.
    pub snapshot: Option<Vec<u8>>,
    /// The payloads of the records after it, in order.
    pub records: Vec<Vec<u8>>,
}

impl Layout {
    /// The journal `name` in `dir`.
    pub fn new(dir: &Path, name: &str) -> Self {
        Self {
            dir: dir.to_owned(),
            name: name.to_owned(),
        }
    }

    fn path(&self, generation: u64, kind: &str) -> PathBuf {
        self.dir
            .join(format!("{}-{generation:010}.{kind}", self.name))
    }

    /// The generation a file name of this journal belongs to, if it is one.
    fn generation_of(&self, file_name: &str, kind: &str) -> Option<u64> {
        let rest = file_name.strip_prefix(&self.name)?.strip_prefix('-')?;
        rest.strip_suffix(kind)?.strip_suffix('.')?.parse().ok()
    }

    /// Every (generation, path) of a file of this journal, temporary ones as generation `None`.
    fn files(&self) -> anyhow::Result<Vec<(Option<u64>, bool, PathBuf)>> {
        let mut found = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if let Some(generation) = self.generation_of(&file_name, "snapshot") {
                found.push((Some(generation), true, entry.path()));
            } else if let Some(generation) = self.generation_of(&file_name, "journal") {
                found.push((Some(generation), false, entry.path()));
            } else if self.generation_of(&file_name, "tmp").is_some() {
                found.push((None, true, entry.path()));
            }
        }
        Ok(found)
    }

    /// Reads the newest generation, cuts a torn tail off its journal, deletes older files, and
    /// returns its content with its journal file open for appending.
    pub fn recover(&self) -> anyhow::Result<(u64, Recovered, File)> {
        fs::create_dir_all(&self.dir)?;
        let files = self.files()?;
        let generation = files
            .iter()
            .filter(|(_, is_snapshot, _)| *is_snapshot)
            .filter_map(|(generation, _, _)| *generation)
            .max()
            .unwrap_or(0);
        let snapshot = match generation {
            0 => None,
            _ => Some(read_snapshot(&self.path(generation, "snapshot"))?),
        };
        let journal_path = self.path(generation, "journal");
        let bytes = match fs::read(&journal_path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(error) => return Err(error.into()),
        };
        let (payloads, whole) = frame::decode_all(&bytes);
        // Zeros after the records are the prefilled space (`writer.rs`), not a torn write.
        let torn = bytes
            .get(whole..)
            .is_some_and(|tail| tail.iter().any(|b| *b != 0));
        if torn {
            tracing::warn!(
                journal = %journal_path.display(),
                cut = bytes.len() - whole,
                "cutting a torn tail off the journal (a write the crash interrupted; it was never acknowledged)"
            );
        }
        let records = payloads.into_iter().map(<[u8]>::to_vec).collect();
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&journal_path)?;
        file.set_len(u64::try_from(whole)?)?;
        file.sync_all()?;
        self.sync_dir()?;
        for (other, _, path) in files {
            if other.is_none_or(|other| other < generation) {
                fs::remove_file(path)?;
            }
        }
        Ok((generation, Recovered { snapshot, records }, file))
    }

    /// Writes generation `generation`'s snapshot durably, opens its empty journal, and deletes
    /// the files of the generation before it.
    pub fn start_generation(&self, generation: u64, snapshot: &[u8]) -> anyhow::Result<File> {
        let temporary = self.dir.join(format!("{}-{generation:010}.tmp", self.name));
        let mut file = File::create(&temporary)?;
        file.write_all(&u64::try_from(snapshot.len())?.to_le_bytes())?;
        file.write_all(&crc32fast::hash(snapshot).to_le_bytes())?;
        file.write_all(snapshot)?;
        file.sync_all()?;
        let journal = File::create(self.path(generation, "journal"))?;
        fs::rename(&temporary, self.path(generation, "snapshot"))?;
        self.sync_dir()?;
        for previous in ["snapshot", "journal"] {
            let path = self.path(generation.saturating_sub(1), previous);
            if generation > 0 && path.exists() {
                fs::remove_file(path)?;
            }
        }
        Ok(journal)
    }

    fn sync_dir(&self) -> anyhow::Result<()> {
        File::open(&self.dir)?.sync_all()?;
        Ok(())
    }
}

/// A snapshot file's payload, checked.
fn read_snapshot(path: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = fs::read(path)?;
    let length = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes);
    let checksum = bytes
        .get(8..12)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes);
    let payload = bytes.get(12..).unwrap_or_default();
    let whole =
        length == Some(u64::try_from(payload.len())?) && checksum == Some(crc32fast::hash(payload));
    anyhow::ensure!(
        whole,
        "{} is damaged (its length or checksum does not match); the journal cannot be recovered",
        path.display()
    );
    Ok(payload.to_vec())
}
