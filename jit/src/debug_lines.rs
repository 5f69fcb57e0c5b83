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

/// A module's DWARF sections, kept to be read when a backtrace asks.
#[derive(Debug)]
pub struct DebugLines {
    /// Each `.debug_*` section's name and bytes.
    sections: Vec<(String, Vec<u8>)>,
    /// Where the code section's contents start in the module: DWARF's
    /// addresses are offsets from there.
    code_start: u32,
    table: OnceLock<Option<LineTable>>,
}

#[derive(Debug)]
struct LineTable {
    /// Sorted by address; at one address an end comes before a start.
    rows: Vec<Row>,
    files: Vec<String>,
}

impl DebugLines {
    /// The sections named `.debug_*` among `custom` (name and range in
    /// `wasm`), or `None` when there is no `.debug_line` to read.
    pub fn new(
        wasm: &[u8],
        custom: &[(String, Range<usize>)],
        code_start: usize,
    ) -> Option<DebugLines> {
        if !custom.iter().any(|(name, _)| name == ".debug_line") {
            return None;
        }
        let sections = custom
            .iter()
            .filter(|(name, _)| name.starts_with(".debug_"))
            .filter_map(|(name, range)| Some((name.clone(), wasm.get(range.clone())?.to_vec())))
            .collect();
        Some(DebugLines {
            sections,
            code_start: u32::try_from(code_start).ok()?,
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

    fn read(&self) -> Result<LineTable, gimli::Error> {
        let dwarf = Dwarf::load(|id| {
            Ok::<_, gimli::Error>(EndianSlice::new(self.section(id), LittleEndian))
        })?;
        let mut rows = Vec::new();
        let mut files = Vec::new();
        let mut file_ids: HashMap<String, u32> = HashMap::new();
        let mut units = dwarf.units();
        while let Some(header) = units.next()? {
            let unit = dwarf.unit(header)?;
            let Some(program) = unit.line_program.clone() else {
                continue;
            };
            let comp_dir = unit.comp_dir.map(|d| d.to_string_lossy().into_owned());
            // Each file of this unit's header once, by its index.
            let mut unit_files: HashMap<u64, u32> = HashMap::new();
            let mut program_rows = program.rows();
            while let Some((header, row)) = program_rows.next_row()? {
                let Ok(address) = u32::try_from(row.address()) else {
                    continue;
                };
                if row.end_sequence() {
                    rows.push(Row {
                        address,
                        file: END,
                        line: 0,
                        column: 0,
                    });
                    continue;
                }
                let file = match unit_files.get(&row.file_index()) {
                    Some(&id) => id,
                    None => {
                        let path = row
                            .file(header)
                            .map(|entry| {
                                let name = string(&dwarf, &unit, entry.path_name());
                                let dir = entry
                                    .directory(header)
                                    .map(|d| string(&dwarf, &unit, d))
                                    .unwrap_or_default();
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
                rows.push(Row {
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
    let absolute = |p: &str| p.starts_with('/');
    let mut path = name.to_string();
    if !absolute(&path) && !dir.is_empty() {
        path = format!("{}/{path}", dir.trim_end_matches('/'));
    }
    if let Some(comp) = comp_dir.filter(|c| !c.is_empty() && !absolute(&path)) {
        path = format!("{}/{path}", comp.trim_end_matches('/'));
    }
    path
}
