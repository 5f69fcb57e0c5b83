/* wasm32-wasi has no setjmp/longjmp. Lua is built with LUAI_THROW/LUAI_TRY
   overridden (errors abort), so its <setjmp.h> include needs no contents. */
#ifndef WALMART_LUA_SETJMP_SHIM
#define WALMART_LUA_SETJMP_SHIM
#endif
