/* gunzip filter on zlib 1.2.11 (CVE-2022-37434).
 *
 * Decompresses a gzip stream (one or more members) from stdin and reports,
 * per member, the gzip header fields collected with inflateGetHeader() --
 * file name, comment, modification time, OS and up to 16 bytes of the FEXTRA
 * field -- and the length and CRC-32 of the decompressed data.  Like a
 * streaming reader that must not consume bytes past the header before it has
 * looked at it, the header is fed to inflate() one byte at a time; the
 * compressed data then goes in 4 KiB chunks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zlib.h"

#define EXTRA_MAX 16

static void print_str(const char *label, const unsigned char *s) {
  if (!s) return;
  printf(" %s=\"", label);
  for (; *s; s++) putchar(*s >= 32 && *s < 127 && *s != '"' ? *s : '?');
  putchar('"');
}

int main(void) {
  size_t cap = 1 << 16, n = 0;
  unsigned char *in = malloc(cap);
  for (size_t r; (r = fread(in + n, 1, cap - n, stdin)) > 0;) {
    n += r;
    if (n == cap) in = realloc(in, cap *= 2);
  }
  unsigned char *out = malloc(1 << 15);
  z_stream s;
  memset(&s, 0, sizeof s);
  if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) return 2;
  size_t pos = 0;
  int member = 0, status = 0;
  while (pos < n) {
    gz_header h;
    memset(&h, 0, sizeof h);
    unsigned char *extra = malloc(EXTRA_MAX); /* inflate() resets h.extra when there is no FEXTRA */
    h.extra = extra;
    h.extra_max = EXTRA_MAX;
    unsigned char *name = malloc(256), *comment = malloc(256);
    h.name = name; h.name_max = 256;
    h.comment = comment; h.comm_max = 256;
    inflateGetHeader(&s, &h);
    uLong crc = crc32(0L, Z_NULL, 0), total = 0;
    int r = Z_OK;
    member++;
    while (r == Z_OK && pos < n) {
      size_t chunk = h.done ? (n - pos < 4096 ? n - pos : 4096) : 1;
      s.next_in = in + pos;
      s.avail_in = (uInt)chunk;
      do {
        s.next_out = out;
        s.avail_out = 1 << 15;
        r = inflate(&s, Z_NO_FLUSH);
        size_t got = (1 << 15) - s.avail_out;
        crc = crc32(crc, out, (uInt)got);
        total += got;
      } while (r == Z_OK && s.avail_out == 0);
      pos += chunk - s.avail_in;
    }
    printf("member %d:", member);
    if (h.done == 1) { /* -1: no gzip header; the buffers were never written */
      printf(" os=%d mtime=%lu text=%d", h.os, (unsigned long)h.time, h.text);
      print_str("name", h.name);
      print_str("comment", h.comment);
      if (h.extra_len) {
        printf(" extra=%u:", h.extra_len);
        for (unsigned i = 0; i < h.extra_len && i < EXTRA_MAX; i++) printf("%02x", h.extra[i]);
      }
    }
    printf(" size=%lu crc=%08lx", total, crc);
    if (r == Z_STREAM_END) printf(" ok\n");
    else { printf(" error %d (%s)\n", r, s.msg ? s.msg : "truncated"); status = 1; }
    free(extra); free(name); free(comment);
    if (r != Z_STREAM_END) break;
    inflateReset(&s);
  }
  inflateEnd(&s);
  free(in); free(out);
  printf("members=%d input=%zu\n", member, n);
  return status;
}
