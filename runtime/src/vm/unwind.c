// Entry into Wasm with a jump buffer, and the jump back out on a trap.
//
// walmart_call_wasm saves the host's registers with sigsetjmp (without the
// signal mask: the trap handler is installed with SA_NODEFER, so nothing
// needs restoring) and publishes the buffer through `swap`, which sets the
// calling thread's innermost buffer and returns the one before. A trap
// (from the signal handler) longjmps back here and the call returns 0.
//
// The thread's slot is reached through `swap` each time, never through a
// pointer kept across the call: an asynchronous call's Wasm runs on a fiber
// that may suspend on one thread and resume on another, and the buffer is
// then restored on the thread the call finishes on.
#include <setjmp.h>

typedef void (*walmart_trampoline)(void *vmctx, void *code, void *values);
typedef void *(*walmart_swap_buf)(void *buf);

int walmart_call_wasm(walmart_swap_buf swap, walmart_trampoline trampoline,
                      void *vmctx, void *code, void *values) {
  sigjmp_buf buf;
  void *volatile prev;
  if (sigsetjmp(buf, 0) == 0) {
    prev = swap(&buf);
    trampoline(vmctx, code, values);
    swap(prev);
    return 1;
  }
  swap(prev);
  return 0;
}

void walmart_unwind(void *buf) { siglongjmp(*(sigjmp_buf *)buf, 1); }
