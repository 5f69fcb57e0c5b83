// Sorting 1M integers with qsort and with a hand-written introsort-ish
// quicksort, checking both.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#define N 1000000
static int32_t a[N], b[N];
static int cmp(const void *x, const void *y) { int32_t p = *(const int32_t *)x, q = *(const int32_t *)y; return (p > q) - (p < q); }
static void quick(int32_t *v, long lo, long hi) {
    while (hi - lo > 16) {
        int32_t p = v[lo + (hi - lo) / 2];
        long i = lo, j = hi;
        while (i <= j) {
            while (v[i] < p) i++;
            while (v[j] > p) j--;
            if (i <= j) { int32_t t = v[i]; v[i] = v[j]; v[j] = t; i++; j--; }
        }
        if (j - lo < hi - i) { quick(v, lo, j); lo = i; } else { quick(v, i, hi); hi = j; }
    }
    for (long i = lo + 1; i <= hi; i++) { int32_t x = v[i]; long j = i - 1; while (j >= lo && v[j] > x) { v[j + 1] = v[j]; j--; } v[j + 1] = x; }
}
int main(void) {
    uint32_t s = 2463534242u;
    for (int i = 0; i < N; i++) { s ^= s << 13; s ^= s >> 17; s ^= s << 5; a[i] = b[i] = (int32_t)s; }
    qsort(a, N, sizeof a[0], cmp);
    quick(b, 0, N - 1);
    long bad = 0; uint64_t sum = 0;
    for (int i = 0; i < N; i++) { bad += a[i] != b[i] || (i && a[i - 1] > a[i]); sum += (uint32_t)a[i] * (uint64_t)i; }
    printf("sorted bad=%ld sum=%llu\n", bad, (unsigned long long)sum);
    return bad != 0;
}
