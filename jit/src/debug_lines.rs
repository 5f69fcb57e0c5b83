//! Source lines for Wasm backtraces: the DWARF line tables a module built
//! with debug information carries (`.debug_line` and the sections it
//! names), read on the first question, so modules that never trap pay
//! only for a copy of those sections.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

use gimli::{AttributeValue, ColumnType, Dwarf, EndianSlice, LittleEndian, SectionId};

/// A source position: file, line and column (0 where unknown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceLocation {
    /// The file's path as the compiler recorded it (joined with its
    /// directory and the compilation directory where those are given).
    pub file: String,
    /// 1-based line; 0 when the row names none.
    pub line: u32,
    /// 1-based column; 0 when the row names none.
    pub column: u32,
}

/// One row: the code-section address it starts at, and its position
/// (`file == END` ends a sequence: no position from there).
#[derive(Clone, Copy, Debug)]
struct Row {
    address: u32,
    file: u32,
    line: u32,
    column: u32,
}

const END: u32 = u32::MAX;

/// The most rows read from one module's line tables (16 bytes each): a
/// crafted module cannot make the first backtrace take unbounded memory
/// (positions past it are not given).
const MAX_ROWS: usize = 4 << 20;

/// A module's DWARF sections, kept to be read when a backtrace asks.
pub struct DebugLines {
    /// Each needed `.debug_*` section's name and bytes.
    sections: Vec<(String, Vec<u8>)>,
    /// Where the code section's contents start in the module: DWARF's
    /// addresses are offsets from there.
    code_start: u32,
    /// The code-section address of the first function body: a sequence
    /// starting below it describes a function the linker removed (older
    /// linkers gave those address 0).
    first_body: u32,
    table: OnceLock<Option<LineTable>>,
}

impl std::fmt::Debug for DebugLines {
    /// Names and sizes only: a trap's `{:?}` must not print the DWARF.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sizes: Vec<(&str, usize)> = self
            .sections
            .iter()
            .map(|(name, bytes)| (name.as_str(), bytes.len()))
            .collect();
        f.debug_struct("DebugLines")
            .field("sections", &sizes)
            .finish()
    }
}

struct LineTable {
    /// Sorted by address; at one address an end comes before a start.
    rows: Vec<Row>,
    files: Vec<String>,
}

impl DebugLines {
    /// The sections the line tables need among `custom` (name and range
    /// in `wasm`), or `None` when there is no `.debug_line` to read;
    /// `code_start` is where the code section's contents begin and
    /// `first_body` where its first function body does.
    pub fn new(
        wasm: &[u8],
        custom: &[(String, Range<usize>)],
        code_start: usize,
        first_body: usize,
    ) -> Option<DebugLines> {
        if !custom.iter().any(|(name, _)| name == ".debug_line") {
            return None;
        }
        // What units and their line programs are read from (not the
        // location lists, ranges or frames).
        const NEEDED: [&str; 7] = [
            ".debug_line",
            ".debug_info",
            ".debug_abbrev",
            ".debug_str",
            ".debug_line_str",
            ".debug_str_offsets",
            ".debug_addr",
        ];
        let sections = custom
            .iter()
            .filter(|(name, _)| NEEDED.contains(&name.as_str()))
            .filter_map(|(name, range)| Some((name.clone(), wasm.get(range.clone())?.to_vec())))
            .collect();
        Some(DebugLines {
            sections,
            code_start: u32::try_from(code_start).ok()?,
            first_body: u32::try_from(first_body.saturating_sub(code_start)).ok()?,
            table: OnceLock::new(),
        })
    }

    /// The source position of the instruction at `wasm_offset` (an
    /// offset in the module), if the line tables cover it. Malformed
    /// DWARF gives no positions, never an error: it is a debugging aid.
    pub fn locate(&self, wasm_offset: u32) -> Option<SourceLocation> {
        let table = self.table.get_or_init(|| self.read().ok()).as_ref()?;
        let address = wasm_offset.checked_sub(self.code_start)?;
        let at = table.rows.partition_point(|r| r.address <= address);
        let row = table.rows.get(at.checked_sub(1)?)?;
        if row.file == END {
            return None;
        }
        Some(SourceLocation {
            file: table.files.get(row.file as usize)?.clone(),
            line: row.line,
            column: row.column,
        })
    }

    fn section(&self, id: SectionId) -> &[u8] {
        self.sections
            .iter()
            .find(|(name, _)| name == id.name())
            .map_or(&[][..], |(_, bytes)| bytes)
    }

    /// Every unit's line program, each once. A unit that cannot be read
    /// is skipped; a program that goes wrong keeps the sequences it
    /// finished.
    fn read(&self) -> Result<LineTable, gimli::Error> {
        let dwarf = Dwarf::load(|id| {
            Ok::<_, gimli::Error>(EndianSlice::new(self.section(id), LittleEndian))
        })?;
        let mut rows = Vec::new();
        let mut files = Vec::new();
        let mut file_ids: HashMap<String, u32> = HashMap::new();
        let mut programs_read = std::collections::HashSet::new();
        let mut units = dwarf.units();
        'units: while let Ok(Some(header)) = units.next() {
            let Ok(unit) = dwarf.unit(header) else {
                continue;
            };
            let Some(program) = unit.line_program.clone() else {
                continue;
            };
            // Units may share a program: its rows once.
            if !programs_read.insert(program.header().offset().0) {
                continue;
            }
            let comp_dir = unit.comp_dir.map(|d| d.to_string_lossy().into_owned());
            // Each file of this unit's header once, by its index.
            let mut unit_files: HashMap<u64, u32> = HashMap::new();
            let mut sequence: Vec<Row> = Vec::new();
            let mut program_rows = program.rows();
            while let Ok(Some((header, row))) = program_rows.next_row() {
                let Ok(address) = u32::try_from(row.address()) else {
                    sequence.clear();
                    continue;
                };
                if row.end_sequence() {
                    // A sequence of a removed function (below the first
                    // body) would claim live code's addresses.
                    if sequence
                        .first()
                        .is_some_and(|r| r.address >= self.first_body)
                    {
                        if rows.len() + sequence.len() >= MAX_ROWS {
                            break 'units;
                        }
                        rows.append(&mut sequence);
                        rows.push(Row {
                            address,
                            file: END,
                            line: 0,
                            column: 0,
                        });
                    }
                    sequence.clear();
                    continue;
                }
                if sequence.len() >= MAX_ROWS {
                    break 'units;
                }
                let file = match unit_files.get(&row.file_index()) {
                    Some(&id) => id,
                    None => {
                        let path = row
                            .file(header)
                            .map(|entry| {
                                let name = string(&dwarf, &unit, entry.path_name());
                                // Directory 0 is the compilation directory.
                                let dir = match entry.directory_index() {
                                    0 => String::new(),
                                    _ => entry
                                        .directory(header)
                                        .map(|d| string(&dwarf, &unit, d))
                                        .unwrap_or_default(),
                                };
                                join(comp_dir.as_deref(), &dir, &name)
                            })
                            .unwrap_or_else(|| "<unknown>".to_string());
                        let next = files.len() as u32;
                        let id = *file_ids.entry(path.clone()).or_insert(next);
                        if id == next {
                            files.push(path);
                        }
                        unit_files.insert(row.file_index(), id);
                        id
                    }
                };
                sequence.push(Row {
                    address,
                    file,
                    line: row
                        .line()
                        .map_or(0, |l| u32::try_from(l.get()).unwrap_or(u32::MAX)),
                    column: match row.column() {
                        ColumnType::LeftEdge => 0,
                        ColumnType::Column(c) => u32::try_from(c.get()).unwrap_or(u32::MAX),
                    },
                });
            }
        }
        // Stable: rows at one address keep their order, but an end sorts
        // before a start there (the next sequence's first row wins).
        rows.sort_by_key(|r| (r.address, r.file != END));
        Ok(LineTable { rows, files })
    }
}

/// A string attribute's text ("" when it cannot be read).
fn string(
    dwarf: &Dwarf<EndianSlice<'_, LittleEndian>>,
    unit: &gimli::Unit<EndianSlice<'_, LittleEndian>>,
    attr: AttributeValue<EndianSlice<'_, LittleEndian>>,
) -> String {
    dwarf
        .attr_string(unit, attr)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `name` under `dir` under the compilation directory, each only where
/// the one inside is relative.
fn join(comp_dir: Option<&str>, dir: &str, name: &str) -> String {
    // POSIX, and Windows (`C:\`, `\\server`): modules are built anywhere.
    let absolute = |p: &str| {
        let b = p.as_bytes();
        p.starts_with('/')
            || p.starts_with('\\')
            || (b.len() >= 3
                && b[0].is_ascii_alphabetic()
                && b[1] == b':'
                && matches!(b[2], b'\\' | b'/'))
    };
    let mut path = name.to_string();
    if !absolute(&path) && !dir.is_empty() {
        path = format!("{}/{path}", dir.trim_end_matches('/'));
    }
    if let Some(comp) = comp_dir.filter(|c| !c.is_empty() && !absolute(&path)) {
        path = format!("{}/{path}", comp.trim_end_matches('/'));
    }
    path
}
