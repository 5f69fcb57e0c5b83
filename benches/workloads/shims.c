// What Lua's os and io libraries call that wasi-libc does not have: no
// shell, no temporary files. Each fails the way POSIX lets it.
#include <stdio.h>
#include <stdlib.h>
int system(const char *command) { return command ? -1 : 0; }
char *tmpnam(char *s) { (void)s; return NULL; }
FILE *tmpfile(void) { return NULL; }
