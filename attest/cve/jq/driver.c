/* JSON stream formatter on jq 1.7's jv library (CVE-2023-50246,
 * CVE-2023-50268).
 *
 * Reads a stream of JSON values from stdin (as `jq .` does, with
 * jv_parser), and for each value prints its kind and a structural summary
 * (object keys, array length, number of nodes, sum of numbers, depth),
 * whether it repeats the value before it (as `uniq` would, with jq's own
 * equality), then re-serialises it with sorted keys: the compact text
 * itself when short, otherwise its length and a hash, plus the hash of the
 * pretty-printed form. Numbers keep their literal text (jq 1.7 decNumber
 * literals). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jv.h"

struct stats { long nodes, numbers, strings; double sum; int depth; };

static void walk(jv v, int depth, struct stats *st) {
  st->nodes++;
  if (depth > st->depth) st->depth = depth;
  switch (jv_get_kind(v)) {
  case JV_KIND_NUMBER: st->numbers++; st->sum += jv_number_value(v); break;
  case JV_KIND_STRING: st->strings++; break;
  case JV_KIND_ARRAY:
    jv_array_foreach(v, i, e) { (void)i; walk(e, depth + 1, st); }
    break;
  case JV_KIND_OBJECT:
    jv_object_foreach(v, k, e) { jv_free(k); walk(e, depth + 1, st); }
    break;
  default: break;
  }
  jv_free(v);
}

static uint32_t fnv1a(const char *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) { h ^= (unsigned char)p[i]; h *= 16777619u; }
  return h;
}

int main(void) {
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  for (size_t r; (r = fread(buf + n, 1, cap - n, stdin)) > 0;) {
    n += r;
    if (n == cap) buf = realloc(buf, cap *= 2);
  }
  jv_parser *p = jv_parser_new(0);
  jv_parser_set_buf(p, buf, (int)n, 0);
  int count = 0, status = 0, repeats = 0;
  jv prev = jv_invalid();
  for (;;) {
    jv v = jv_parser_next(p);
    if (!jv_is_valid(v)) {
      if (jv_invalid_has_msg(jv_copy(v))) {
        jv m = jv_invalid_get_msg(v);
        printf("error: %s\n", jv_string_value(m));
        jv_free(m);
        status = 1;
      } else jv_free(v);
      break;
    }
    count++;
    struct stats st = {0};
    walk(jv_copy(v), 0, &st);
    printf("value %d: %s", count, jv_kind_name(jv_get_kind(v)));
    if (jv_get_kind(v) == JV_KIND_OBJECT) {
      jv keys = jv_keys(jv_copy(v));
      printf(" keys=%d [", jv_array_length(jv_copy(keys)));
      jv_array_foreach(keys, i, k) {
        if (i < 6) printf("%s%s", i ? "," : "", jv_string_value(k));
        jv_free(k);
      }
      printf("]");
      jv_free(keys);
    } else if (jv_get_kind(v) == JV_KIND_ARRAY) {
      printf(" length=%d", jv_array_length(jv_copy(v)));
    }
    printf(" nodes=%ld numbers=%ld strings=%ld depth=%d sum=%.17g\n",
           st.nodes, st.numbers, st.strings, st.depth, st.sum);
    if (jv_is_valid(prev) && jv_equal(jv_copy(prev), jv_copy(v))) {
      repeats++;
      printf("  repeats value %d\n", count - 1);
    }
    jv_free(prev);
    prev = jv_copy(v);
    jv compact = jv_dump_string(jv_copy(v), JV_PRINT_SORTED);
    const char *s = jv_string_value(compact);
    size_t sl = (size_t)jv_string_length_bytes(jv_copy(compact));
    if (sl <= 200) printf("  %s\n", s);
    else printf("  compact: %zu bytes hash=%08x\n", sl, fnv1a(s, sl));
    jv_free(compact);
    jv pretty = jv_dump_string(v, JV_PRINT_SORTED | JV_PRINT_INDENT_FLAGS(2));
    printf("  pretty: %d bytes hash=%08x\n", jv_string_length_bytes(jv_copy(pretty)),
           fnv1a(jv_string_value(pretty), (size_t)jv_string_length_bytes(jv_copy(pretty))));
    jv_free(pretty);
  }
  jv_free(prev);
  jv_parser_free(p);
  free(buf);
  printf("values=%d repeats=%d\n", count, repeats);
  return status;
}

/* jq's util.c provides _jq_memmem; the rest of util.c (file handling) is not needed. */
const void *_jq_memmem(const void *h, size_t hl, const void *nd, size_t nl) {
  const char *H = h;
  if (nl == 0) return h;
  for (size_t i = 0; i + nl <= hl; i++) if (memcmp(H + i, nd, nl) == 0) return H + i;
  return NULL;
}
