/* Hand-written config.h for Oniguruma 6.1.3 (no configure run); SIZEOF_LONG follows the target. */
#define HAVE_ALLOCA 1
#define HAVE_ALLOCA_H 1
#define HAVE_PROTOTYPES 1
#define HAVE_STDARG_PROTOTYPES 1
#define HAVE_STDINT_H 1
#define HAVE_STDLIB_H 1
#define HAVE_STRINGS_H 1
#define HAVE_STRING_H 1
#define HAVE_SYS_TYPES_H 1
#define HAVE_UNISTD_H 1
#define STDC_HEADERS 1
#define SIZEOF_INT 4
#define SIZEOF_SHORT 2
#if defined(__wasm32__)
#define SIZEOF_LONG 4
#else
#define SIZEOF_LONG 8
#endif
#define PACKAGE "onig"
#define PACKAGE_VERSION "6.1.3"
