/* minimal single-threaded pthread shim for wasm32-wasi (no threads) */
#ifndef SHIM_PTHREAD_H
#define SHIM_PTHREAD_H
typedef unsigned pthread_key_t;
typedef int pthread_once_t;
typedef int pthread_mutex_t;
#define PTHREAD_ONCE_INIT 0
#define PTHREAD_MUTEX_INITIALIZER 0
#define SHIM_MAXKEYS 64
static void *shim_tsd[SHIM_MAXKEYS]; static unsigned shim_nkeys;
static inline int pthread_key_create(pthread_key_t *k, void (*d)(void *)) { (void)d; if (shim_nkeys >= SHIM_MAXKEYS) return 1; *k = shim_nkeys++; return 0; }
static inline void *pthread_getspecific(pthread_key_t k) { return shim_tsd[k]; }
static inline int pthread_setspecific(pthread_key_t k, const void *v) { shim_tsd[k] = (void *)v; return 0; }
static inline int pthread_once(pthread_once_t *o, void (*f)(void)) { if (!*o) { *o = 1; f(); } return 0; }
static inline int pthread_mutex_lock(pthread_mutex_t *m) { (void)m; return 0; }
static inline int pthread_mutex_unlock(pthread_mutex_t *m) { (void)m; return 0; }
#endif
