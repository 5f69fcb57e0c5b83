// Entry into Wasm with a jump buffer, and the jump back out on a trap.
//
// walmart_call_wasm saves the host's registers with sigsetjmp (without the
// signal mask: the trap handler is installed with SA_NODEFER, so nothing
// needs restoring) and publishes the buffer through *slot. A trap
// (from the signal handler) longjmps back here and the call returns 0.
#include <setjmp.h>

typedef void (*walmart_trampoline)(void *vmctx, void *code, void *values);

int walmart_call_wasm(void **slot, walmart_trampoline trampoline, void *vmctx,
                      void *code, void *values) {
  sigjmp_buf buf;
  void *volatile prev = *slot;
  if (sigsetjmp(buf, 0) == 0) {
    *slot = &buf;
    trampoline(vmctx, code, values);
    *slot = prev;
    return 1;
  }
  *slot = prev;
  return 0;
}

void walmart_unwind(void *buf) { siglongjmp(*(sigjmp_buf *)buf, 1); }
