//! Wasm functions made known to native debuggers through the GDB JIT
//! interface (`Config::debug_info`, `walmart run -D debug-info`): for
//! each placed code memory, a small in-memory ELF file whose symbol table
//! names every function at its address is linked into the list
//! `__jit_debug_descriptor` heads (`gdb_jit.c`), and the debugger told.
//! gdb (and lldb, with its GDB JIT loader on) then names Wasm frames in
//! `bt` and breaks on them by name (`break wasm[9]::main`). Symbols only:
//! no line tables (a module's DWARF is not rewritten for its machine code).
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
    /// Registers functions placed at `(address, length, name)`.
    pub(crate) fn new(functions: &[(usize, usize, String)]) -> Option<Registration> {
        let image = elf_image(functions)?.into_boxed_slice();
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

/// The ELF machine of this build's target.
fn elf_machine() -> u16 {
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
pub(crate) fn elf_image(functions: &[(usize, usize, String)]) -> Option<Vec<u8>> {
    let start = functions.iter().map(|f| f.0).min()?;
    let end = functions.iter().map(|f| f.0 + f.1).max()?;
    // Section names and symbol names.
    let shstrtab: &[u8] = b"\0.text\0.symtab\0.strtab\0.shstrtab\0";
    let (text_name, symtab_name, strtab_name, shstrtab_name) = (1u32, 7u32, 15u32, 23u32);
    let mut strtab = vec![0u8];
    let mut symtab = vec![0u8; 24];
    for (addr, len, name) in functions {
        let name_at = strtab.len() as u32;
        strtab.extend_from_slice(name.as_bytes());
        strtab.push(0);
        symtab.extend_from_slice(&name_at.to_le_bytes());
        // STB_GLOBAL, STT_FUNC; default visibility; in section 1 (.text).
        symtab.push(0x12);
        symtab.push(0);
        symtab.extend_from_slice(&1u16.to_le_bytes());
        symtab.extend_from_slice(&(*addr as u64).to_le_bytes());
        symtab.extend_from_slice(&(*len as u64).to_le_bytes());
    }
    const EHDR: usize = 64;
    let symtab_at = EHDR;
    let strtab_at = symtab_at + symtab.len();
    let shstrtab_at = strtab_at + strtab.len();
    let shdrs_at = (shstrtab_at + shstrtab.len()).next_multiple_of(8);
    let mut out = Vec::with_capacity(shdrs_at + 5 * 64);
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
    out.extend_from_slice(&5u16.to_le_bytes()); // sections
    out.extend_from_slice(&4u16.to_le_bytes()); // .shstrtab's index
    out.extend_from_slice(&symtab);
    out.extend_from_slice(&strtab);
    out.extend_from_slice(shstrtab);
    out.resize(shdrs_at, 0);
    let text = (start as u64, (end - start) as u64);
    let headers = [
        SectionHeader::default(),
        // SHT_NOBITS, SHF_ALLOC | SHF_EXECINSTR.
        SectionHeader {
            name: text_name,
            kind: 8,
            flags: 6,
            addr: text.0,
            size: text.1,
            align: 16,
            ..Default::default()
        },
        // SHT_SYMTAB, linked to .strtab; locals: the null symbol alone.
        SectionHeader {
            name: symtab_name,
            kind: 2,
            offset: symtab_at as u64,
            size: symtab.len() as u64,
            link: 3,
            info: 1,
            align: 8,
            entsize: 24,
            ..Default::default()
        },
        // SHT_STRTAB.
        SectionHeader {
            name: strtab_name,
            kind: 3,
            offset: strtab_at as u64,
            size: strtab.len() as u64,
            align: 1,
            ..Default::default()
        },
        SectionHeader {
            name: shstrtab_name,
            kind: 3,
            offset: shstrtab_at as u64,
            size: shstrtab.len() as u64,
            align: 1,
            ..Default::default()
        },
    ];
    for h in headers {
        h.write(&mut out);
    }
    Some(out)
}

/// An ELF64 section header.
#[derive(Default)]
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
