//! Wasm functions made known to native debuggers through the GDB JIT
//! interface (`Config::debug_info`, `walmart run -D debug-info`): for
//! each placed code memory, a small in-memory ELF file whose symbol table
//! names every function at its address is linked into the list
//! `__jit_debug_descriptor` heads (`gdb_jit.c`), and the debugger told.
//! gdb (and lldb, with its GDB JIT loader on) then names Wasm frames in
//! `bt` and breaks on them by name (`break wasm[9]::main`). Where the
//! module carries DWARF line tables, the file carries a line table of the
//! machine code too (each instruction's Wasm offset looked up in the
//! module's, `LineRows`): gdb then gives each frame its `file:line`,
//! lists the source and breaks on a line (`break trap.c:3`). Lines only:
//! no variables or types (wasmtime rewrites all of a module's DWARF).
//!
//! The list is the process's: another JIT linked into the program shares
//! it (the symbols are weak), but not this module's lock, so two JITs
//! must not register code at the same moment (wasmtime and walmart in one
//! process compile on their own threads; the benches compile one after
//! the other).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Asked for by an engine.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Registers code placed from now on.
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether placed code is registered.
pub(crate) fn wanted() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

#[repr(C)]
struct JitCodeEntry {
    next: *mut JitCodeEntry,
    prev: *mut JitCodeEntry,
    symfile_addr: *const u8,
    symfile_size: u64,
}

#[repr(C)]
struct JitDescriptor {
    version: u32,
    action_flag: u32,
    relevant_entry: *mut JitCodeEntry,
    first_entry: *mut JitCodeEntry,
}

const JIT_NOACTION: u32 = 0;
const JIT_REGISTER_FN: u32 = 1;
const JIT_UNREGISTER_FN: u32 = 2;

extern "C" {
    fn walmart_jit_debug_descriptor() -> *mut JitDescriptor;
    fn walmart_jit_debug_register_code();
}

/// Serialises changes to the list (the debugger reads it only while the
/// process is stopped in `__jit_debug_register_code`).
static LIST: Mutex<()> = Mutex::new(());

/// One code memory's entry in the list, taken out when dropped.
#[derive(Debug)]
pub(crate) struct Registration {
    entry: *mut JitCodeEntry,
    /// The ELF file the entry points at.
    _image: Box<[u8]>,
}

// SAFETY: the entry is touched only under `LIST`, and the image is never
// written after registration.
unsafe impl Send for Registration {}
// SAFETY: as above; no method reads through a shared reference.
unsafe impl Sync for Registration {}

impl Registration {
    /// Registers functions placed at `(address, length, name)`, with the
    /// source lines of their instructions where known.
    pub(crate) fn new(
        functions: &[(usize, usize, String)],
        lines: &LineRows,
    ) -> Option<Registration> {
        let image = elf_image(functions, &line_sections(lines, functions))?.into_boxed_slice();
        let entry = Box::into_raw(Box::new(JitCodeEntry {
            next: std::ptr::null_mut(),
            prev: std::ptr::null_mut(),
            symfile_addr: image.as_ptr(),
            symfile_size: image.len() as u64,
        }));
        let _list = LIST.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: the descriptor is the process's one, changed only under
        // `LIST`; `entry` is a fresh allocation this registration owns.
        unsafe {
            let d = walmart_jit_debug_descriptor();
            (*entry).next = (*d).first_entry;
            if !(*d).first_entry.is_null() {
                (*(*d).first_entry).prev = entry;
            }
            (*d).first_entry = entry;
            (*d).relevant_entry = entry;
            (*d).action_flag = JIT_REGISTER_FN;
            walmart_jit_debug_register_code();
            (*d).action_flag = JIT_NOACTION;
        }
        Some(Registration {
            entry,
            _image: image,
        })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let _list = LIST.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: `entry` is in the list (linked by `new`, unlinked only
        // here) and owned by this registration.
        unsafe {
            let d = walmart_jit_debug_descriptor();
            let e = self.entry;
            if (*e).prev.is_null() {
                (*d).first_entry = (*e).next;
            } else {
                (*(*e).prev).next = (*e).next;
            }
            if !(*e).next.is_null() {
                (*(*e).next).prev = (*e).prev;
            }
            (*d).relevant_entry = e;
            (*d).action_flag = JIT_UNREGISTER_FN;
            walmart_jit_debug_register_code();
            (*d).action_flag = JIT_NOACTION;
            (*d).relevant_entry = std::ptr::null_mut();
            drop(Box::from_raw(e));
        }
    }
}

/// The ELF machine of this build's target (`e_machine`; jitdump's header
/// names it too).
pub(crate) fn elf_machine() -> u16 {
    if cfg!(target_arch = "x86_64") {
        62
    } else if cfg!(target_arch = "aarch64") {
        183
    } else if cfg!(target_arch = "riscv64") {
        243
    } else if cfg!(target_arch = "s390x") {
        22
    } else {
        0
    }
}

/// A 64-bit little-endian ELF executable with no contents but a `.text`
/// section at the code's own address (`NOBITS`: the debugger reads the
/// code from the process) and a symbol per function, global, of its
/// address and size: what gdb needs to name and unwind the frames (its
/// prologue analysis finds the frame-pointer set-up every function has).
/// `None` without functions.
pub(crate) fn elf_image(
    functions: &[(usize, usize, String)],
    extra: &[(&str, Vec<u8>)],
) -> Option<Vec<u8>> {
    let start = functions.iter().map(|f| f.0).min()?;
    let end = functions.iter().map(|f| f.0 + f.1).max()?;
    let mut strtab = vec![0u8];
    let mut symtab = vec![0u8; 24];
    for (addr, len, name) in functions {
        symtab.extend_from_slice(&add_name(&mut strtab, name).to_le_bytes());
        // STB_GLOBAL, STT_FUNC; default visibility; in section 1 (.text).
        symtab.push(0x12);
        symtab.push(0);
        symtab.extend_from_slice(&1u16.to_le_bytes());
        symtab.extend_from_slice(&(*addr as u64).to_le_bytes());
        symtab.extend_from_slice(&(*len as u64).to_le_bytes());
    }
    // The sections after the null one, in order (.symtab links to .strtab,
    // section 3; .shstrtab is section 4): a name, a header, and the bytes
    // the file holds for it.
    let text = SectionHeader {
        // SHT_NOBITS, SHF_ALLOC | SHF_EXECINSTR: the code is the
        // process's.
        kind: 8,
        flags: 6,
        addr: start as u64,
        size: (end - start) as u64,
        align: 16,
        ..Default::default()
    };
    let table = |kind, link, info, align, entsize| SectionHeader {
        kind,
        link,
        info,
        align,
        entsize,
        ..Default::default()
    };
    let mut sections: Vec<(&str, SectionHeader, &[u8])> = vec![
        (".text", text, &[]),
        // SHT_SYMTAB; locals: the null symbol alone.
        (".symtab", table(2, 3, 1, 8, 24), &symtab),
        // SHT_STRTAB.
        (".strtab", table(3, 0, 0, 1, 0), &strtab),
        (".shstrtab", table(3, 0, 0, 1, 0), &[]),
    ];
    // SHT_PROGBITS, not loaded: the debugger reads them from the file.
    sections.extend(
        extra
            .iter()
            .map(|(name, bytes)| (*name, table(1, 0, 0, 1, 0), &bytes[..])),
    );
    let mut shstrtab = vec![0u8];
    for (name, header, _) in &mut sections {
        header.name = add_name(&mut shstrtab, name);
    }
    sections[3].2 = &shstrtab;
    const EHDR: usize = 64;
    let mut body = Vec::new();
    for (_, header, bytes) in &mut sections {
        if header.kind != 8 {
            header.offset = (EHDR + body.len()) as u64;
            header.size = bytes.len() as u64;
            body.extend_from_slice(bytes);
        }
    }
    let shdrs_at = (EHDR + body.len()).next_multiple_of(8);
    let shnum = 1 + sections.len() as u16;
    let mut out = Vec::with_capacity(shdrs_at + usize::from(shnum) * 64);
    // The ELF header.
    out.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    out.extend_from_slice(&elf_machine().to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes()); // EV_CURRENT
    out.extend_from_slice(&0u64.to_le_bytes()); // entry
    out.extend_from_slice(&0u64.to_le_bytes()); // no program headers
    out.extend_from_slice(&(shdrs_at as u64).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes()); // flags
    out.extend_from_slice(&(EHDR as u16).to_le_bytes());
    out.extend_from_slice(&56u16.to_le_bytes()); // program header size
    out.extend_from_slice(&0u16.to_le_bytes()); // none
    out.extend_from_slice(&64u16.to_le_bytes()); // section header size
    out.extend_from_slice(&shnum.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes()); // .shstrtab's index
    out.extend_from_slice(&body);
    out.resize(shdrs_at, 0);
    SectionHeader::default().write(&mut out);
    for (_, header, _) in &sections {
        header.write(&mut out);
    }
    Some(out)
}

/// Appends `name` and its NUL to string table `table`; its offset there.
fn add_name(table: &mut Vec<u8>, name: &str) -> u32 {
    let at = table.len() as u32;
    table.extend_from_slice(name.as_bytes());
    table.push(0);
    at
}

/// An ELF64 section header.
#[derive(Clone, Copy, Default)]
struct SectionHeader {
    name: u32,
    kind: u32,
    flags: u64,
    addr: u64,
    offset: u64,
    size: u64,
    link: u32,
    info: u32,
    align: u64,
    entsize: u64,
}

impl SectionHeader {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.name.to_le_bytes());
        out.extend_from_slice(&self.kind.to_le_bytes());
        out.extend_from_slice(&self.flags.to_le_bytes());
        out.extend_from_slice(&self.addr.to_le_bytes());
        out.extend_from_slice(&self.offset.to_le_bytes());
        out.extend_from_slice(&self.size.to_le_bytes());
        out.extend_from_slice(&self.link.to_le_bytes());
        out.extend_from_slice(&self.info.to_le_bytes());
        out.extend_from_slice(&self.align.to_le_bytes());
        out.extend_from_slice(&self.entsize.to_le_bytes());
    }
}

/// One row of a function's line table: (offset in the function, file
/// index, line, column).
pub(crate) type LineRow = (u32, u32, u32, u32);

/// The source lines of a code memory's functions: for each function (its
/// address and length) its rows in order of offset, files by their index
/// in `files`.
#[derive(Debug, Default)]
pub(crate) struct LineRows {
    pub(crate) files: Vec<String>,
    pub(crate) functions: Vec<(usize, usize, Vec<LineRow>)>,
}

/// `name`, or `?` where the format cannot hold it (empty, or with a NUL).
fn usable(name: &str) -> &str {
    if name.is_empty() || name.contains('\0') {
        "?"
    } else {
        name
    }
}

/// `.debug_info`, `.debug_abbrev` and `.debug_line` of one compile unit
/// covering `lines`' functions with their line table and a subprogram
/// each, named as `names` (placed functions' `(address, length, name)`)
/// names the one at its address (DWARF 4, addresses absolute); nothing
/// when no function has a row.
fn line_sections(
    lines: &LineRows,
    names: &[(usize, usize, String)],
) -> Vec<(&'static str, Vec<u8>)> {
    use gimli::write::{
        Address, AttributeValue, DwarfUnit, EndianVec, LineProgram, LineString, Sections,
    };
    let with_rows: Vec<_> = lines.functions.iter().filter(|f| !f.2.is_empty()).collect();
    if with_rows.is_empty() {
        return Vec::new();
    }
    let (Some(start), Some(end)) = (
        lines.functions.iter().map(|f| f.0).min(),
        lines.functions.iter().map(|f| f.0 + f.1).max(),
    ) else {
        return Vec::new();
    };
    let encoding = gimli::Encoding {
        format: gimli::Format::Dwarf32,
        version: 4,
        address_size: 8,
    };
    let primary = usable(lines.files.first().map_or("wasm", |f| f.as_str()));
    let mut program = LineProgram::new(
        encoding,
        gimli::LineEncoding::default(),
        LineString::String(b".".to_vec()),
        None,
        LineString::String(primary.as_bytes().to_vec()),
        None,
    );
    let dir = program.default_directory();
    let files: Vec<_> = lines
        .files
        .iter()
        .map(|f| program.add_file(LineString::String(usable(f).as_bytes().to_vec()), dir, None))
        .collect();
    for (addr, len, rows) in with_rows.iter().map(|f| (f.0, f.1, &f.2)) {
        program.begin_sequence(Some(Address::Constant(addr as u64)));
        for &(offset, file, line, column) in rows.iter() {
            let row = program.row();
            row.address_offset = u64::from(offset);
            row.file = files[file as usize];
            row.line = u64::from(line);
            row.column = u64::from(column);
            program.generate_row();
        }
        program.end_sequence(len as u64);
    }
    let mut dwarf = DwarfUnit::new(encoding);
    dwarf.unit.line_program = program;
    let root = dwarf.unit.root();
    let cu = dwarf.unit.get_mut(root);
    cu.set(
        gimli::DW_AT_name,
        AttributeValue::String(primary.as_bytes().to_vec()),
    );
    cu.set(gimli::DW_AT_comp_dir, AttributeValue::String(b".".to_vec()));
    cu.set(
        gimli::DW_AT_low_pc,
        AttributeValue::Address(Address::Constant(start as u64)),
    );
    cu.set(
        gimli::DW_AT_high_pc,
        AttributeValue::Udata((end - start) as u64),
    );
    // Each function as a subprogram: its name as given (a debugger shows
    // a symbol's through its demangler, which made `__main_void`
    // `.main_void` in gdb), and its bounds.
    for &(addr, len, _) in &lines.functions {
        let Some((_, _, name)) = names.iter().find(|n| n.0 == addr) else {
            continue;
        };
        let sub = dwarf.unit.add(root, gimli::DW_TAG_subprogram);
        let sub = dwarf.unit.get_mut(sub);
        sub.set(
            gimli::DW_AT_name,
            AttributeValue::String(usable(name).as_bytes().to_vec()),
        );
        sub.set(
            gimli::DW_AT_low_pc,
            AttributeValue::Address(Address::Constant(addr as u64)),
        );
        sub.set(gimli::DW_AT_high_pc, AttributeValue::Udata(len as u64));
        sub.set(gimli::DW_AT_external, AttributeValue::Flag(true));
    }
    let mut sections = Sections::new(EndianVec::new(gimli::LittleEndian));
    if dwarf.write(&mut sections).is_err() {
        // A debugging aid: the symbols alone then.
        return Vec::new();
    }
    let mut out = Vec::new();
    let _ = sections.for_each(|id, data| -> Result<(), ()> {
        if !data.slice().is_empty() {
            out.push((id.name(), data.slice().to_vec()));
        }
        Ok(())
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_table_gives_each_rows_address_its_line() {
        let lines = LineRows {
            files: vec!["/src/a.c".into(), "/src/b.h".into()],
            functions: vec![
                (
                    0x1000,
                    0x40,
                    vec![(0, 0, 3, 1), (0x10, 1, 7, 5), (0x20, 0, 4, 2)],
                ),
                // No rows: left out of the table.
                (0x1040, 0x20, vec![]),
                (0x1060, 0x10, vec![(0, 0, 9, 0)]),
            ],
        };
        let funcs = [
            (0x1000, 0x40, "wasm[0]::a".to_string()),
            (0x1040, 0x20, "wasm[1]::b".to_string()),
            (0x1060, 0x10, "wasm[2]::__c".to_string()),
        ];
        let sections = line_sections(&lines, &funcs);
        let names: Vec<&str> = sections.iter().map(|s| s.0).collect();
        for wanted in [".debug_abbrev", ".debug_line", ".debug_info"] {
            assert!(names.contains(&wanted), "{names:?}");
        }
        let line = &sections.iter().find(|s| s.0 == ".debug_line").unwrap().1;
        let debug_line = gimli::DebugLine::new(line, gimli::LittleEndian);
        let program = debug_line
            .program(gimli::DebugLineOffset(0), 8, None, None)
            .unwrap();
        let mut rows = program.rows();
        let mut seen = Vec::new();
        while let Some((header, row)) = rows.next_row().unwrap() {
            let file = row.file(header).unwrap();
            let name = match file.path_name() {
                gimli::AttributeValue::String(s) => String::from_utf8(s.to_vec()).unwrap(),
                other => panic!("{other:?}"),
            };
            let line = row.line().map_or(0, |l| l.get());
            seen.push((row.address(), name, line, row.end_sequence()));
        }
        let want = [
            (0x1000, "/src/a.c", 3, false),
            (0x1010, "/src/b.h", 7, false),
            (0x1020, "/src/a.c", 4, false),
            (0x1040, "/src/a.c", 4, true),
            (0x1060, "/src/a.c", 9, false),
            (0x1070, "/src/a.c", 9, true),
        ];
        let seen: Vec<(u64, &str, u64, bool)> = seen
            .iter()
            .map(|(a, n, l, e)| (*a, n.as_str(), *l, *e))
            .collect();
        assert_eq!(seen, want);
        // Nothing to say without rows.
        assert!(line_sections(&LineRows::default(), &funcs).is_empty());
        // A subprogram for each function, by its name, with its bounds.
        let info = &sections.iter().find(|s| s.0 == ".debug_info").unwrap().1;
        let abbrev = &sections.iter().find(|s| s.0 == ".debug_abbrev").unwrap().1;
        let dwarf = gimli::Dwarf {
            debug_info: gimli::DebugInfo::new(info, gimli::LittleEndian),
            debug_abbrev: gimli::DebugAbbrev::new(abbrev, gimli::LittleEndian),
            debug_line: gimli::DebugLine::new(line, gimli::LittleEndian),
            ..Default::default()
        };
        let unit = dwarf.units().next().unwrap().unwrap();
        let unit = dwarf.unit(unit).unwrap();
        let mut entries = unit.entries();
        let mut subprograms = Vec::new();
        while let Some(e) = entries.next_dfs().unwrap() {
            if e.tag() != gimli::DW_TAG_subprogram {
                continue;
            }
            let name = match e.attr_value(gimli::DW_AT_name) {
                Some(gimli::AttributeValue::String(s)) => String::from_utf8(s.to_vec()).unwrap(),
                other => panic!("{other:?}"),
            };
            let low = match e.attr_value(gimli::DW_AT_low_pc) {
                Some(gimli::AttributeValue::Addr(a)) => a,
                other => panic!("{other:?}"),
            };
            let len = e
                .attr_value(gimli::DW_AT_high_pc)
                .and_then(|v| v.udata_value());
            subprograms.push((name, low, len));
        }
        assert_eq!(
            subprograms,
            [
                ("wasm[0]::a".to_string(), 0x1000, Some(0x40)),
                ("wasm[1]::b".to_string(), 0x1040, Some(0x20)),
                ("wasm[2]::__c".to_string(), 0x1060, Some(0x10)),
            ]
        );
    }
}
