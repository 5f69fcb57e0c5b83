/* The GDB JIT interface's two symbols (gdb's `jit.h`; lldb reads them
 * too): a debugger puts a breakpoint on `__jit_debug_register_code` and
 * reads the list of in-memory object files `__jit_debug_descriptor`
 * heads each time it is called. Weak, so that another JIT linked into
 * the same program (wasmtime beside walmart in a benchmark) may define
 * them too: the linker keeps one, and both JITs list their code in it. */
#include <stddef.h>
#include <stdint.h>

struct jit_code_entry {
    struct jit_code_entry *next;
    struct jit_code_entry *prev;
    const char *symfile_addr;
    uint64_t symfile_size;
};

struct jit_descriptor {
    uint32_t version;
    uint32_t action_flag;
    struct jit_code_entry *relevant_entry;
    struct jit_code_entry *first_entry;
};

__attribute__((weak, noinline)) void __jit_debug_register_code(void) {
    /* Not optimised away: the debugger's breakpoint lives here. */
    __asm__ volatile("" ::: "memory");
}

__attribute__((weak)) struct jit_descriptor __jit_debug_descriptor = {1, 0, NULL, NULL};

struct jit_descriptor *walmart_jit_debug_descriptor(void) {
    return &__jit_debug_descriptor;
}

void walmart_jit_debug_register_code(void) {
    __jit_debug_register_code();
}
