// LZ4 (from the lz4 sdist on PyPI) compressing and decompressing 16 MiB of
// generated text, 3 rounds, round trip checked.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lz4.h"
#define SIZE (16 << 20)
int main(void) {
    char *src = malloc(SIZE), *dst = malloc(LZ4_compressBound(SIZE)), *back = malloc(SIZE);
    const char *words[] = {"memory ", "attest ", "wasm ", "page ", "guard ", "trap ", "the ", "of ", "lz4 ", "\n"};
    unsigned s = 1; int n = 0;
    while (n < SIZE - 16) { s = s * 1103515245u + 12345u; const char *w = words[(s >> 16) % 10]; int l = strlen(w); memcpy(src + n, w, l); n += l; }
    memset(src + n, ' ', SIZE - n);
    long total = 0; int ok = 1;
    for (int round = 0; round < 3; round++) {
        int c = LZ4_compress_default(src, dst, SIZE, LZ4_compressBound(SIZE));
        int d = LZ4_decompress_safe(dst, back, c, SIZE);
        ok &= d == SIZE && memcmp(src, back, SIZE) == 0;
        total += c;
        src[round * 4096] ^= 1;
    }
    printf("compressed %ld ok=%d\n", total, ok);
    return !ok;
}
