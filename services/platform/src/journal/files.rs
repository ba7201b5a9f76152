//! The files of a journal in its directory: snapshot `{name}-G.snapshot` is the owner's state
//! before the first record of journal `{name}-G.journal` (generation 0 has no snapshot: the empty
//! state). A snapshot is written in the background while the records go on into the journal of
//! its generation, so the newest journals may have no snapshot yet: recovery starts from the
//! newest snapshot and replays every journal from its generation on, in order. A snapshot is
//! written to a temporary name, synced and renamed, so a snapshot file that exists is whole; once
//! it is, the files of earlier generations are deleted.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::frame;

/// Bytes of a snapshot written between two syncs.
const SNAPSHOT_CHUNK: usize = 1 << 20;

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

    /// The journal's name.
    pub fn name(&self) -> &str {
        &self.name
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

    /// Reads the newest snapshot and every journal from its generation on, cuts a torn tail off
    /// the last journal, deletes older files, and returns the content with the last journal open
    /// for appending (and its generation).
    pub fn recover(&self) -> anyhow::Result<(u64, Recovered, File)> {
        fs::create_dir_all(&self.dir)?;
        let files = self.files()?;
        let of_kind = |want_snapshot: bool| {
            let mut generations: Vec<u64> = (files.iter())
                .filter(|(_, is_snapshot, _)| *is_snapshot == want_snapshot)
                .filter_map(|(generation, _, _)| *generation)
                .collect();
            generations.sort_unstable();
            generations
        };
        let base = of_kind(true).last().copied().unwrap_or(0);
        let snapshot = match base {
            0 => None,
            _ => Some(read_snapshot(&self.path(base, "snapshot"))?),
        };
        let journals: Vec<u64> = of_kind(false).into_iter().filter(|g| *g >= base).collect();
        let last = journals.last().copied().unwrap_or(base);
        self.check_consecutive(base, &journals)?;
        let mut records = Vec::new();
        let mut last_whole = 0;
        for generation in &journals {
            last_whole = self.read_journal(*generation, *generation == last, &mut records)?;
        }
        let file = self.open_for_appending(last, last_whole)?;
        // Temporaries are snapshots a crash cut short: never whole, never read.
        for (_, _, path) in files
            .iter()
            .filter(|(generation, _, _)| generation.is_none())
        {
            fs::remove_file(path)?;
        }
        self.remove_before(&files, base)?;
        Ok((last, Recovered { snapshot, records }, file))
    }

    /// The journals after the base snapshot must be its generation and the ones after it, none
    /// missing: a gap would silently drop records.
    fn check_consecutive(&self, base: u64, journals: &[u64]) -> anyhow::Result<()> {
        let expected = (base..).take(journals.len());
        if journals.iter().copied().ne(expected) {
            anyhow::bail!(
                "journal {} in {} is damaged: its journals after snapshot {base} are {journals:?}, \
                 not consecutive from it",
                self.name,
                self.dir.display()
            );
        }
        Ok(())
    }

    /// Appends the payloads of journal `generation` to `records`; returns the length of its
    /// whole records. Only the last journal may end torn (a write the crash interrupted; it was
    /// never acknowledged): an earlier one was synced whole before the next one was started.
    fn read_journal(
        &self,
        generation: u64,
        is_last: bool,
        records: &mut Vec<Vec<u8>>,
    ) -> anyhow::Result<usize> {
        let path = self.path(generation, "journal");
        let bytes = fs::read(&path)?;
        let (payloads, whole) = frame::decode_all(&bytes);
        // Zeros after the records are the prefilled space (`writer.rs`), not a torn write.
        let torn = bytes
            .get(whole..)
            .is_some_and(|tail| tail.iter().any(|b| *b != 0));
        if torn && !is_last {
            anyhow::bail!(
                "{} is damaged: it ends in a torn record but a later journal follows it",
                path.display()
            );
        }
        if torn {
            tracing::warn!(
                journal = %path.display(),
                cut = bytes.len() - whole,
                "cutting a torn tail off the journal (a write the crash interrupted; it was never acknowledged)"
            );
        }
        records.extend(payloads.into_iter().map(<[u8]>::to_vec));
        Ok(whole)
    }

    /// Opens journal `generation` (creating it) cut to `whole` bytes, durably.
    fn open_for_appending(&self, generation: u64, whole: usize) -> anyhow::Result<File> {
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(self.path(generation, "journal"))?;
        file.set_len(u64::try_from(whole)?)?;
        file.sync_all()?;
        self.sync_dir()?;
        Ok(file)
    }

    /// Deletes the snapshots and journals among `files` of generations before `base` (all in
    /// snapshot `base` now).
    fn remove_before(
        &self,
        files: &[(Option<u64>, bool, PathBuf)],
        base: u64,
    ) -> anyhow::Result<()> {
        for (generation, _, path) in files {
            if generation.is_some_and(|generation| generation < base) {
                fs::remove_file(path)?;
            }
        }
        Ok(())
    }

    /// Creates the empty journal of `generation`, durably (its name is in the directory).
    pub fn start_journal(&self, generation: u64) -> anyhow::Result<File> {
        let journal = File::create(self.path(generation, "journal"))?;
        self.sync_dir()?;
        Ok(journal)
    }

    /// Writes the snapshot of `generation` durably, then deletes the files of the generations
    /// before it (they are all in the snapshot now).
    pub fn write_snapshot(&self, generation: u64, snapshot: &[u8]) -> anyhow::Result<()> {
        let temporary = self.dir.join(format!("{}-{generation:010}.tmp", self.name));
        let mut file = File::create(&temporary)?;
        file.write_all(&u64::try_from(snapshot.len())?.to_le_bytes())?;
        file.write_all(&crc32fast::hash(snapshot).to_le_bytes())?;
        // Written and synced a little at a time: a device flush waits for every dirty byte of
        // the device, so one bulk write would hold up each journal sync meanwhile.
        for chunk in snapshot.chunks(SNAPSHOT_CHUNK) {
            file.write_all(chunk)?;
            file.sync_data()?;
        }
        file.sync_all()?;
        fs::rename(&temporary, self.path(generation, "snapshot"))?;
        self.sync_dir()?;
        self.remove_before(&self.files()?, generation)
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
