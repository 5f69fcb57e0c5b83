/* c-ares query builder / response checker (c-ares 1.10.1-DEV, CVE-2016-5180).
 *
 * Reads one request per line from stdin: "NAME" or "TYPE NAME" (TYPE one of
 * A, AAAA, MX, TXT, NS, PTR, SRV).  For each name it builds a DNS query with
 * ares_create_query(), decodes the question back with ares_expand_name(),
 * then builds the answer a resolver would get for an A query (the query with
 * one A record appended) and parses it with ares_parse_a_reply().  Like
 * ares_search(), a relative name is tried with each search domain first.
 * Prints the first queries, every 256th one, errors, and a digest of all.  Names are kept in a small pending list, as
 * a stub resolver keeps requests it has sent and not yet answered. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/nameser.h>
#include "ares.h"

static uint32_t fnv1a(const unsigned char *p, size_t n, uint32_t h) {
  for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 16777619u; }
  return h;
}

static int qtype_of(const char *s) {
  static const struct { const char *n; int t; } types[] = {
    {"A", ns_t_a}, {"AAAA", ns_t_aaaa}, {"MX", ns_t_mx}, {"TXT", ns_t_txt},
    {"NS", ns_t_ns}, {"PTR", ns_t_ptr}, {"SRV", ns_t_srv}};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (strcmp(s, types[i].n) == 0) return types[i].t;
  return -1;
}

/* Builds the query for NAME, decodes its question back and, for A queries,
 * parses the synthesised answer.  Returns 0 when the query could be built. */
static int query(const char *name, int type, unsigned short id, int verbose,
                 uint32_t *digest, unsigned long *answered) {
  unsigned char *q = NULL;
  int qlen = 0;
  int r = ares_create_query(name, ns_c_in, type, id, 1, &q, &qlen, 0);
  if (r != ARES_SUCCESS) {
    printf("%s: error %s\n", name, ares_strerror(r));
    return -1;
  }
  *digest = fnv1a(q, (size_t)qlen, *digest);
  char *decoded = NULL;
  long enclen = 0;
  r = ares_expand_name(q + HFIXEDSZ, q, qlen, &decoded, &enclen);
  if (verbose)
    printf("%s: id=%04x qlen=%d hash=%08x", name, id, qlen, fnv1a(q, (size_t)qlen, 2166136261u));
  if (r == ARES_SUCCESS) {
    *digest = fnv1a((const unsigned char *)decoded, strlen(decoded), *digest);
    if (verbose) printf(" question=%s", decoded);
    ares_free_string(decoded);
  } else if (verbose) printf(" question=<%s>", ares_strerror(r));
  if (type == ns_t_a) {
    /* synthesise the answer: QR|RD|RA, ANCOUNT 1, NAME -> question */
    uint32_t h = fnv1a((const unsigned char *)name, strlen(name), 2166136261u);
    int alen = qlen + 16;
    unsigned char *a = malloc((size_t)alen);
    memcpy(a, q, (size_t)qlen);
    a[2] = 0x81; a[3] = 0x80;
    a[6] = 0; a[7] = 1;
    unsigned char *rr = a + qlen;
    rr[0] = 0xc0; rr[1] = HFIXEDSZ;     /* compressed owner name */
    rr[2] = 0; rr[3] = ns_t_a; rr[4] = 0; rr[5] = ns_c_in;
    rr[6] = 0; rr[7] = 0; rr[8] = (h >> 24) & 0x3f; rr[9] = (h >> 16) & 0xff; /* TTL */
    rr[10] = 0; rr[11] = 4;
    rr[12] = 10; rr[13] = (h >> 16) & 0xff; rr[14] = (h >> 8) & 0xff; rr[15] = h & 0xff;
    struct ares_addrttl ttls[4];
    int nttl = 4;
    r = ares_parse_a_reply(a, alen, NULL, ttls, &nttl);
    if (r == ARES_SUCCESS && nttl > 0) {
      const unsigned char *ip = (const unsigned char *)&ttls[0].ipaddr;
      *digest = fnv1a(ip, 4, *digest) ^ (uint32_t)ttls[0].ttl;
      if (verbose) printf(" answer=%u.%u.%u.%u ttl=%d", ip[0], ip[1], ip[2], ip[3], ttls[0].ttl);
      (*answered)++;
    } else if (verbose) printf(" answer=<%s>", ares_strerror(r));
    free(a);
  }
  if (verbose) printf("\n");
  ares_free_string(q);
  return 0;
}

struct request { char *name; struct request *next; };

int main(void) {
  char line[1024];
  unsigned short id = 0x1000;
  unsigned long requests = 0, ok = 0, bad = 0, answered = 0;
  uint32_t digest = 2166136261u;
  struct request *pending = NULL;
  while (fgets(line, sizeof line, stdin)) {
    size_t l = strcspn(line, "\r\n");
    line[l] = 0;
    if (l == 0 || line[0] == '#') continue;
    int type = ns_t_a;
    char *name = line, *sp = strchr(line, ' ');
    if (sp) {
      *sp = 0;
      int t = qtype_of(line);
      if (t >= 0) { type = t; name = sp + 1; } else *sp = ' ';
    }
    /* remember the request (freed when the batch is flushed) */
    struct request *rq = malloc(sizeof *rq);
    rq->name = strdup(name);
    rq->next = pending;
    pending = rq;

    /* like ares_search(): a relative name is tried with each search domain, then as is */
    static const char *search[] = {"corp.example.com", "example.com", NULL};
    size_t nl = strlen(rq->name);
    int fqdn = nl > 0 && rq->name[nl - 1] == '.' && !(nl > 1 && rq->name[nl - 2] == '\\');
    for (int k = fqdn ? 2 : 0; k < 3; k++) {
      char cand[1100];
      if (search[k]) snprintf(cand, sizeof cand, "%s.%s", rq->name, search[k]);
      else snprintf(cand, sizeof cand, "%s", rq->name);
      int verbose = ok < 24 || ok % 256 == 0;
      if (query(cand, type, ++id, verbose, &digest, &answered) != 0) bad++;
      else ok++;
    }
    if (++requests % 16 == 0) { /* a batch has been answered */
      while (pending) { struct request *n = pending->next; free(pending->name); free(pending); pending = n; }
    }
  }
  while (pending) { struct request *n = pending->next; free(pending->name); free(pending); pending = n; }
  printf("requests=%lu queries=%lu errors=%lu answered=%lu digest=%08x\n", requests, ok, bad, answered, digest);
  return 0;
}
