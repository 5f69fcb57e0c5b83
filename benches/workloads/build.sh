#!/usr/bin/env bash
# Fetches third-party sources from package registries (never committed),
# and builds every benchmark workload for wasm32-wasi with clang-16 and
# wasi-libc (see scripts/build-fixtures.sh for the apt packages; this also
# needs pip and npm). Outputs: benches/workloads/*.wasm (committed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="$here/.cache"
mkdir -p "$cache"
cd "$cache"

fetch_pip() { # name version
  # pip prepares metadata to download an sdist; some need build isolation
  # (setuptools_scm), others the locally installed Cython.
  [ -f "$1-$2.tar.gz" ] || pip download --quiet --no-binary :all: --no-deps "$1==$2" -d . \
    || pip download --quiet --no-binary :all: --no-deps --no-build-isolation "$1==$2" -d .
  [ -d "$1-$2" ] || tar xzf "$1-$2.tar.gz"
}
pip install --quiet cython setuptools wheel >/dev/null 2>&1 || true
fetch_pip lz4 4.4.5
fetch_pip lupa 2.8
fetch_pip pynacl 1.6.2
if [ ! -d sqlite ]; then
  npm pack --silent sqlite3@6.0.1 >/dev/null
  tar xzf sqlite3-6.0.1.tgz package/deps/sqlite-autoconf-3520000.tar.gz
  tar xzf package/deps/sqlite-autoconf-3520000.tar.gz
  mv sqlite-autoconf-3520000 sqlite
fi

cc="clang-16 --target=wasm32-wasi -O2 -Wl,--strip-debug"
cd "$here"
for k in matmul sort hash nbody; do $cc $k.c -o $k.wasm -lm; done
$cc -I"$cache/lz4-4.4.5/lz4libs" lz4_bench.c "$cache/lz4-4.4.5/lz4libs/lz4.c" -o lz4.wasm
$cc -DSQLITE_THREADSAFE=0 -DSQLITE_TEMP_STORE=3 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_WAL -DSQLITE_OMIT_SHARED_CACHE \
    -D_WASI_EMULATED_MMAN -D_WASI_EMULATED_GETPID -I"$cache/sqlite" \
    sqlite_bench.c "$cache/sqlite/sqlite3.c" -o sqlite.wasm -lwasi-emulated-mman -lwasi-emulated-getpid
# Lua raises errors with setjmp/longjmp, which wasm32-wasi lacks; the
# benchmark script raises none, so errors abort instead.
lua="$cache/lupa-2.8/third-party/lua54"
srcs=$(ls "$lua"/*.c | grep -v -e '/luac.c$' -e '/onelua.c$' -e '/ltests.c$')
$cc -D'LUAI_THROW(L,c)=abort()' -D'LUAI_TRY(L,c,a)={a}' -D'luai_jmpbuf=int' \
    -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS -DL_tmpnam=32 -Wno-everything -I"$here/lua-shim" \
    shims.c $srcs -I"$lua" -o lua.wasm -lm -lwasi-emulated-signal -lwasi-emulated-process-clocks

# libsodium's own test programs (vendored in the PyNaCl sdist), built in
# their benchmark mode (cmptest.h with -DBENCHMARKS): each runs its test
# ITERATIONS times and prints the time per iteration.
sodium="$cache/sodium-build"
if [ ! -f "$sodium/src/libsodium/.libs/libsodium.a" ]; then
  rm -rf "$sodium"
  cp -r "$cache/pynacl-1.6.2/src/libsodium" "$sodium"
  (cd "$sodium" &&
    CC="clang-16 --target=wasm32-wasi" AR=llvm-ar-16 RANLIB=llvm-ranlib-16 \
      CFLAGS="-O2 -D_WASI_EMULATED_PROCESS_CLOCKS" \
      ./configure --host=wasm32-wasi --disable-ssp --disable-shared --without-pthreads --disable-asm >/dev/null &&
    make -j2 -C src/libsodium >/dev/null)
fi
# test:iterations, sized so each program runs for tens to hundreds of ms.
for spec in aead_chacha20poly1305:1024 box:512 generichash:256 kdf:2048 scalarmult:256 secretbox:16384 sign:4 stream:4; do
  t=${spec%%:*}
  $cc -DBENCHMARKS -DITERATIONS=${spec##*:} -D_WASI_EMULATED_PROCESS_CLOCKS \
      -I"$sodium/src/libsodium/include" -I"$sodium/src/libsodium/include/sodium" -I"$sodium/test/quirks" \
      "$sodium/test/default/$t.c" "$sodium/src/libsodium/.libs/libsodium.a" \
      -o "sodium_$t.wasm" -lwasi-emulated-process-clocks
done
ls -l "$here"/*.wasm
