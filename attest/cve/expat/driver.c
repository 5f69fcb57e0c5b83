/* XML outline / statistics tool on expat 2.2.1 (CVE-2022-40674).
 *
 * Reads an XML document from stdin and feeds it to the parser one line at a
 * time, as a program reading a file with fgets() does.  Handlers count
 * elements, attributes, character data and processing instructions and keep
 * the element depth; the outline of the first elements is printed.  Each
 * comment pauses the parser (XML_StopParser(p, XML_TRUE)) so that the
 * application can flush the records collected so far -- the usual pattern of
 * a pull-style consumer built on expat's suspend/resume -- and the main loop
 * resumes it with XML_ResumeParser(). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "expat.h"

struct state {
  XML_Parser p;
  long elements, attributes, text_bytes, comments, pis, flushes;
  int depth, max_depth;
  uint32_t hash;
  long pending; /* records since the last flush */
};

static uint32_t mix(uint32_t h, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) { h ^= (unsigned char)s[i]; h *= 16777619u; }
  return h;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts) {
  struct state *st = ud;
  st->elements++;
  st->pending++;
  st->hash = mix(st->hash, name, strlen(name));
  int na = 0;
  for (; atts[na]; na += 2) {
    st->hash = mix(st->hash, atts[na], strlen(atts[na]));
    st->hash = mix(st->hash, atts[na + 1], strlen(atts[na + 1]));
  }
  st->attributes += na / 2;
  if (st->elements <= 12)
    printf("%*s<%.40s> attrs=%d line=%lu\n", 2 * st->depth, "", name, na / 2,
           (unsigned long)XML_GetCurrentLineNumber(st->p));
  if (++st->depth > st->max_depth) st->max_depth = st->depth;
}

static void XMLCALL on_end(void *ud, const XML_Char *name) {
  struct state *st = ud;
  st->depth--;
  st->hash = mix(st->hash, "/", 1);
  st->hash = mix(st->hash, name, strlen(name));
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len) {
  struct state *st = ud;
  st->text_bytes += len;
  st->hash = mix(st->hash, s, (size_t)len);
}

static void XMLCALL on_pi(void *ud, const XML_Char *target, const XML_Char *data) {
  struct state *st = ud;
  st->pis++;
  st->hash = mix(st->hash, target, strlen(target));
  st->hash = mix(st->hash, data, strlen(data));
}

static void XMLCALL on_comment(void *ud, const XML_Char *data) {
  struct state *st = ud;
  st->comments++;
  st->hash = mix(st->hash, data, strlen(data));
  /* pause so that main() can flush what has been collected */
  XML_StopParser(st->p, XML_TRUE);
}

static void flush(struct state *st) {
  st->flushes++;
  if (st->flushes <= 8 || st->flushes % 256 == 0)
    printf("flush %ld: %ld records, depth %d, hash %08x\n", st->flushes, st->pending, st->depth, st->hash);
  st->pending = 0;
}

int main(void) {
  struct state st;
  memset(&st, 0, sizeof st);
  st.hash = 2166136261u;
  XML_Parser p = XML_ParserCreate(NULL);
  st.p = p;
  XML_SetUserData(p, &st);
  XML_SetElementHandler(p, on_start, on_end);
  XML_SetCharacterDataHandler(p, on_text);
  XML_SetProcessingInstructionHandler(p, on_pi);
  XML_SetCommentHandler(p, on_comment);
  static char line[1 << 16];
  enum XML_Status status = XML_STATUS_OK;
  int eof = 0;
  while (!eof && status != XML_STATUS_ERROR) {
    size_t len = 0;
    if (!fgets(line, sizeof line, stdin)) eof = 1;
    else len = strlen(line);
    status = XML_Parse(p, line, (int)len, eof);
    while (status == XML_STATUS_SUSPENDED) {
      flush(&st);
      status = XML_ResumeParser(p);
    }
  }
  if (status == XML_STATUS_ERROR)
    printf("error: %s at line %lu column %lu\n", XML_ErrorString(XML_GetErrorCode(p)),
           (unsigned long)XML_GetCurrentLineNumber(p), (unsigned long)XML_GetCurrentColumnNumber(p));
  printf("elements=%ld attributes=%ld text=%ld comments=%ld pis=%ld flushes=%ld max_depth=%d hash=%08x\n",
         st.elements, st.attributes, st.text_bytes, st.comments, st.pis, st.flushes, st.max_depth, st.hash);
  XML_ParserFree(p);
  return status == XML_STATUS_ERROR;
}
