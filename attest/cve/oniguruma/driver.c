/* grep-like regex tester on Oniguruma 6.1.3 (CVE-2017-9226).
 *
 * Reads lines "PATTERN<TAB>SUBJECT" from stdin (a line "PATTERN<TAB>" with an
 * empty subject is allowed; "\n" in SUBJECT stands for a newline).  Each
 * pattern is compiled twice, for ASCII and for UTF-8 (Ruby syntax, as jq
 * uses), and every non-overlapping match in SUBJECT is listed with its
 * capture groups (for the first 64 lines and every 16th; all go into the
 * final digest).  Compiled patterns are cached by text, as a regex engine
 * in a scripting language does, so repeated patterns are compiled once. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* Without it oniguruma.h declares the variadic onig_error_code_to_str()
 * with no prototype, and a wasm32 call passes its OnigErrorInfo* where the
 * callee expects its variadic-argument buffer (x86-64 happens to agree). */
#define HAVE_STDARG_PROTOTYPES 1
#include "oniguruma.h"

#define CACHE 8
struct cached { char *pat; regex_t *reg[2]; int err[2]; };
static struct cached cache[CACHE];
static unsigned next_slot;

static OnigEncoding encs[2];
static const char *enc_names[2] = {"ascii", "utf8"};

static struct cached *compile(const char *pat, size_t plen) {
  for (int i = 0; i < CACHE; i++)
    if (cache[i].pat && strlen(cache[i].pat) == plen && memcmp(cache[i].pat, pat, plen) == 0)
      return &cache[i];
  struct cached *c = &cache[next_slot++ % CACHE];
  if (c->pat) {
    for (int e = 0; e < 2; e++) if (c->reg[e]) onig_free(c->reg[e]);
    free(c->pat);
  }
  c->pat = malloc(plen + 1);
  memcpy(c->pat, pat, plen);
  c->pat[plen] = 0;
  for (int e = 0; e < 2; e++) {
    OnigErrorInfo einfo;
    c->reg[e] = NULL;
    c->err[e] = onig_new(&c->reg[e], (const UChar *)c->pat, (const UChar *)c->pat + plen,
                         ONIG_OPTION_CAPTURE_GROUP, encs[e], ONIG_SYNTAX_RUBY, &einfo);
    if (c->err[e] != ONIG_NORMAL) {
      UChar msg[ONIG_MAX_ERROR_MESSAGE_LEN];
      onig_error_code_to_str(msg, c->err[e], &einfo);
      printf("  %s: compile error: %s\n", enc_names[e], (char *)msg);
      c->reg[e] = NULL;
    }
  }
  return c;
}

int main(void) {
  encs[0] = ONIG_ENCODING_ASCII;
  encs[1] = ONIG_ENCODING_UTF8;
  onig_initialize(encs, 2);
  OnigRegion *region = onig_region_new();
  static char line[1 << 16];
  static UChar subj[1 << 16];
  unsigned long lines = 0, total = 0;
  uint32_t digest = 2166136261u;
  while (fgets(line, sizeof line, stdin)) {
    size_t l = strcspn(line, "\n");
    line[l] = 0;
    char *tab = strchr(line, '\t');
    if (!tab) continue;
    size_t plen = (size_t)(tab - line), slen = 0;
    for (const char *s = tab + 1; *s; s++) {
      if (s[0] == '\\' && s[1] == 'n') { subj[slen++] = '\n'; s++; }
      else subj[slen++] = (UChar)*s;
    }
    lines++;
    int verbose = lines <= 64 || lines % 16 == 0;
    if (verbose) printf("#%lu /%.*s/ (%zu bytes)\n", lines, (int)plen, line, slen);
    struct cached *c = compile(line, plen);
    for (int e = 0; e < 2; e++) {
      if (!c->reg[e]) continue;
      const UChar *end = subj + slen, *start = subj;
      int n = 0;
      if (verbose) printf("  %s:", enc_names[e]);
      while (start <= end) {
        int r = onig_search(c->reg[e], subj, end, start, end, region, ONIG_OPTION_NONE);
        if (r < 0) break;
        n++;
        if (verbose && n <= 8) {
          printf(" [%d,%d)", region->beg[0], region->end[0]);
          for (int g = 1; g < region->num_regs; g++)
            printf("%s%d:%d", g == 1 ? "{" : ",", region->beg[g], region->end[g]);
          if (region->num_regs > 1) printf("}");
        }
        for (int g = 0; g < region->num_regs; g++) {
          uint32_t v = (uint32_t)region->beg[g] * 31u + (uint32_t)region->end[g];
          digest = (digest ^ v) * 16777619u;
        }
        start = subj + (region->end[0] > r ? region->end[0] : r + 1);
        onig_region_free(region, 0);
      }
      if (verbose) printf(" matches=%d\n", n);
      total += (unsigned long)n;
    }
  }
  for (int i = 0; i < CACHE; i++) if (cache[i].pat) {
    for (int e = 0; e < 2; e++) if (cache[i].reg[e]) onig_free(cache[i].reg[e]);
    free(cache[i].pat);
  }
  onig_region_free(region, 1);
  onig_end();
  printf("patterns=%lu matches=%lu digest=%08x\n", lines, total, digest);
  return 0;
}
