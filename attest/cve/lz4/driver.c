/* Block-archive reader on lz4 1.9.2 (CVE-2021-3520).
 *
 * stdin is a sequence of records
 *     [int32 LE wanted][int32 LE csize][csize bytes: one LZ4 block]
 * as written by an application that stores compressed records and often only
 * needs a record's first bytes (a header or a preview): each block is decoded
 * with LZ4_decompress_safe_partial(), asking for the first `wanted` bytes, into
 * a per-record buffer of 64 KiB.  For each record the decoded length and a
 * checksum are printed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lz4.h"

#define RECORD_MAX 65536

static uint32_t fnv1a(const unsigned char *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 16777619u; }
  return h;
}

static int32_t rd32(const unsigned char *p) {
  return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

int main(void) {
  size_t cap = 1 << 16, n = 0;
  unsigned char *in = malloc(cap);
  for (size_t r; (r = fread(in + n, 1, cap - n, stdin)) > 0;) {
    n += r;
    if (n == cap) in = realloc(in, cap *= 2);
  }
  size_t pos = 0;
  long records = 0, errors = 0, bytes = 0;
  uint32_t all = 2166136261u;
  while (pos + 8 <= n) {
    int32_t wanted = rd32(in + pos), csize = rd32(in + pos + 4);
    pos += 8;
    if (csize < 0 || (size_t)csize > n - pos) { printf("record %ld: truncated\n", records + 1); errors++; break; }
    char *dst = malloc(RECORD_MAX);
    if (wanted > RECORD_MAX) wanted = RECORD_MAX;
    int got = LZ4_decompress_safe_partial((const char *)in + pos, dst, csize, wanted, RECORD_MAX);
    records++;
    if (got < 0) {
      printf("record %ld: csize=%d wanted=%d corrupt (%d)\n", records, csize, wanted, got);
      errors++;
    } else {
      uint32_t h = fnv1a((unsigned char *)dst, (size_t)got);
      all = (all ^ h) * 16777619u;
      bytes += got;
      printf("record %ld: csize=%d wanted=%d got=%d hash=%08x head=\"", records, csize, wanted, got, h);
      for (int i = 0; i < got && i < 16; i++) putchar(dst[i] >= 32 && dst[i] < 127 && dst[i] != '"' ? dst[i] : '.');
      printf("\"\n");
    }
    free(dst);
    pos += (size_t)csize;
  }
  free(in);
  printf("records=%ld errors=%ld bytes=%ld digest=%08x\n", records, errors, bytes, all);
  return errors != 0;
}
