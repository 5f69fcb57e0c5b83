//! Labelled page datasets, as `walmart attest collect` writes them and
//! `train` / `eval` read them.
//!
//! Layout (little-endian): magic `"WALMDSET"`, version u32, metadata length
//! u32, metadata JSON ([`DatasetMeta`]), then fixed-size records: group u32
//! (the run: input file and injection seed), seed u32, page u32, label u8,
//! three zero bytes, and the page's [`PAGE_SIZE`] bytes. Records are
//! appended as the app runs; a file whose record area is not a whole number
//! of records is refused.

use std::io::{BufWriter, Read, Write};
use std::path::Path;

use crate::snapshot::PAGE_SIZE;

const MAGIC: &[u8; 8] = b"WALMDSET";
const VERSION: u32 = 1;
const RECORD_HEADER: usize = 16;
/// Bytes per record.
pub const RECORD_SIZE: usize = RECORD_HEADER + PAGE_SIZE;

/// What a page is: clean, or corrupted by one kind of attack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Label {
    Benign,
    /// Bytes written past the end of a live heap chunk.
    HeapOverflow,
    /// Writes into a freed heap chunk.
    UseAfterFree,
    /// A saved frame on the shadow stack overwritten.
    StackSmash,
    /// Arbitrary writes by a malicious host.
    HostTamper,
}

impl Label {
    /// Every label, in code order.
    pub const ALL: [Label; 5] = [
        Label::Benign,
        Label::HeapOverflow,
        Label::UseAfterFree,
        Label::StackSmash,
        Label::HostTamper,
    ];

    /// The attack kinds (every label but benign).
    pub const ATTACKS: [Label; 4] = [
        Label::HeapOverflow,
        Label::UseAfterFree,
        Label::StackSmash,
        Label::HostTamper,
    ];

    fn code(self) -> u8 {
        self as u8
    }

    fn from_code(c: u8) -> Option<Label> {
        Label::ALL.get(c as usize).copied()
    }

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Label::Benign => "benign",
            Label::HeapOverflow => "heap-overflow",
            Label::UseAfterFree => "use-after-free",
            Label::StackSmash => "stack-smash",
            Label::HostTamper => "host-tamper",
        }
    }

    /// Whether the page is corrupted.
    pub fn is_attack(self) -> bool {
        self != Label::Benign
    }
}

impl std::str::FromStr for Label {
    type Err = String;
    fn from_str(s: &str) -> Result<Label, String> {
        Label::ALL
            .into_iter()
            .find(|l| l.name() == s)
            .ok_or_else(|| {
                format!("unknown attack `{s}` (expected heap-overflow, use-after-free, stack-smash or host-tamper)")
            })
    }
}

/// How a dataset was made.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DatasetMeta {
    /// The application (module file name).
    pub app: String,
    pub policy: String,
    /// The runs, by group number: a description of the input and seed.
    pub groups: Vec<String>,
    /// How heap chunks were found.
    pub heap_source: String,
}

/// One labelled page.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub group: u32,
    pub seed: u32,
    pub page: u32,
    pub label: Label,
    pub bytes: Vec<u8>,
}

/// Why a dataset cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}: not a walmart dataset (bad magic)")]
    BadMagic(String),
    #[error("{0}: dataset version {1} is not supported (this walmart reads version {VERSION})")]
    Version(String, u32),
    #[error("{0}: damaged dataset ({1})")]
    Damaged(String, String),
}

/// Appends records to a dataset file.
pub struct DatasetWriter {
    out: BufWriter<std::fs::File>,
    path: String,
    pub records: usize,
}

impl DatasetWriter {
    /// Creates (or truncates) `path` and writes the header.
    pub fn create(path: &Path, meta: &DatasetMeta) -> Result<DatasetWriter, DatasetError> {
        let p = path.display().to_string();
        let io = |source| DatasetError::Io {
            path: p.clone(),
            source,
        };
        let file = std::fs::File::create(path).map_err(io)?;
        let mut w = DatasetWriter {
            out: BufWriter::new(file),
            path: p.clone(),
            records: 0,
        };
        w.write_header(meta)?;
        Ok(w)
    }

    fn write_header(&mut self, meta: &DatasetMeta) -> Result<(), DatasetError> {
        let json = serde_json::to_vec(meta).expect("metadata serialises");
        let mut head = Vec::with_capacity(16 + json.len());
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&VERSION.to_le_bytes());
        head.extend_from_slice(&(json.len() as u32).to_le_bytes());
        head.extend_from_slice(&json);
        self.out
            .write_all(&head)
            .map_err(|source| DatasetError::Io {
                path: self.path.clone(),
                source,
            })
    }

    /// Appends one record; `bytes` must be a whole page.
    pub fn push(&mut self, r: &Record) -> Result<(), DatasetError> {
        assert_eq!(r.bytes.len(), PAGE_SIZE, "a record holds one page");
        let mut head = [0u8; RECORD_HEADER];
        head[0..4].copy_from_slice(&r.group.to_le_bytes());
        head[4..8].copy_from_slice(&r.seed.to_le_bytes());
        head[8..12].copy_from_slice(&r.page.to_le_bytes());
        head[12] = r.label.code();
        let io = |source| DatasetError::Io {
            path: self.path.clone(),
            source,
        };
        self.out.write_all(&head).map_err(io)?;
        self.out.write_all(&r.bytes).map_err(io)?;
        self.records += 1;
        Ok(())
    }

    /// Flushes the file.
    pub fn finish(mut self) -> Result<usize, DatasetError> {
        self.out.flush().map_err(|source| DatasetError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok(self.records)
    }
}

/// A dataset read into memory.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    pub meta: DatasetMeta,
    pub records: Vec<Record>,
}

impl Dataset {
    /// Reads `path`.
    pub fn load(path: &Path) -> Result<Dataset, DatasetError> {
        let p = path.display().to_string();
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|source| DatasetError::Io {
                path: p.clone(),
                source,
            })?;
        Dataset::from_bytes(&bytes).map_err(|e| match e {
            DatasetError::BadMagic(_) => DatasetError::BadMagic(p),
            DatasetError::Version(_, v) => DatasetError::Version(p, v),
            DatasetError::Damaged(_, why) => DatasetError::Damaged(p, why),
            other => other,
        })
    }

    /// Parses dataset file bytes (errors name the file as `<bytes>`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Dataset, DatasetError> {
        let name = || "<bytes>".to_string();
        if bytes.len() < 16 || &bytes[..8] != MAGIC {
            return Err(DatasetError::BadMagic(name()));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != VERSION {
            return Err(DatasetError::Version(name(), version));
        }
        let meta_len = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")) as usize;
        let body = bytes
            .get(16..)
            .filter(|b| b.len() >= meta_len)
            .ok_or_else(|| DatasetError::Damaged(name(), "metadata cut short".into()))?;
        let meta: DatasetMeta = serde_json::from_slice(&body[..meta_len])
            .map_err(|e| DatasetError::Damaged(name(), format!("metadata: {e}")))?;
        let area = &body[meta_len..];
        if area.len() % RECORD_SIZE != 0 {
            return Err(DatasetError::Damaged(
                name(),
                format!(
                    "{} bytes of records is not a whole number of {RECORD_SIZE}-byte records",
                    area.len()
                ),
            ));
        }
        let records = area
            .chunks_exact(RECORD_SIZE)
            .enumerate()
            .map(|(i, r)| {
                let u = |k: usize| u32::from_le_bytes(r[k..k + 4].try_into().expect("4 bytes"));
                let label = Label::from_code(r[12]).ok_or_else(|| {
                    DatasetError::Damaged(name(), format!("record {i}: label code {}", r[12]))
                })?;
                Ok(Record {
                    group: u(0),
                    seed: u(4),
                    page: u(8),
                    label,
                    bytes: r[RECORD_HEADER..].to_vec(),
                })
            })
            .collect::<Result<_, DatasetError>>()?;
        Ok(Dataset { meta, records })
    }

    /// Appends the records of `other` (groups renumbered after ours).
    pub fn merge(&mut self, other: Dataset) {
        let offset = self.meta.groups.len() as u32;
        self.meta.groups.extend(other.meta.groups);
        if self.meta.app.is_empty() {
            self.meta.app = other.meta.app;
        } else if !other.meta.app.is_empty() && other.meta.app != self.meta.app {
            self.meta.app = format!("{}+{}", self.meta.app, other.meta.app);
        }
        self.records.extend(other.records.into_iter().map(|mut r| {
            r.group += offset;
            r
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_reads_and_refuses_damage() {
        let dir = std::env::temp_dir().join(format!("walmart-ds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("d.wds");
        let meta = DatasetMeta {
            app: "app.wasm".into(),
            policy: "fine".into(),
            groups: vec!["input a, seed 1".into()],
            heap_source: "interposed".into(),
        };
        let mut w = DatasetWriter::create(&path, &meta).unwrap();
        let rec = Record {
            group: 0,
            seed: 1,
            page: 7,
            label: Label::UseAfterFree,
            bytes: vec![3; PAGE_SIZE],
        };
        w.push(&rec).unwrap();
        assert_eq!(w.finish().unwrap(), 1);
        let d = Dataset::load(&path).unwrap();
        assert_eq!(d.meta, meta);
        assert_eq!(d.records, [rec]);
        let bytes = std::fs::read(&path).unwrap();
        assert!(matches!(
            Dataset::from_bytes(&bytes[..bytes.len() - 1]),
            Err(DatasetError::Damaged(..))
        ));
        assert!(matches!(
            Dataset::from_bytes(b"not a dataset at all"),
            Err(DatasetError::BadMagic(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!("stack-smash".parse::<Label>(), Ok(Label::StackSmash));
        assert!("smash".parse::<Label>().is_err());
    }
}
