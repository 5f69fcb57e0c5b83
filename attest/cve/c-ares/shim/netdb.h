/* wasm32-wasi has no <netdb.h>; c-ares's reply parsers only need struct hostent. */
#ifndef SHIM_NETDB_H
#define SHIM_NETDB_H
struct hostent {
  char *h_name;
  char **h_aliases;
  int h_addrtype;
  int h_length;
  char **h_addr_list;
};
#define h_addr h_addr_list[0]
#endif
