// Hashing 64 MiB with FNV-1a (byte loop) and a 64-bit multiply-xorshift
// mixer (word loop): memory loads and integer arithmetic.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define SIZE (16u << 20)
int main(void) {
    uint8_t *buf = malloc(SIZE);
    uint64_t x = 88172645463325252ull;
    for (uint32_t i = 0; i < SIZE; i += 8) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; memcpy(buf + i, &x, 8); }
    uint64_t fnv = 1469598103934665603ull, mix = 0;
    for (int round = 0; round < 4; round++) {
        for (uint32_t i = 0; i < SIZE; i++) { fnv ^= buf[i]; fnv *= 1099511628211ull; }
        for (uint32_t i = 0; i < SIZE; i += 8) {
            uint64_t w; memcpy(&w, buf + i, 8);
            w ^= w >> 33; w *= 0xff51afd7ed558ccdull; w ^= w >> 33; w *= 0xc4ceb9fe1a85ec53ull; w ^= w >> 33;
            mix += w ^ (mix << 7);
        }
        buf[round] ^= (uint8_t)fnv;
    }
    printf("fnv %016llx mix %016llx\n", (unsigned long long)fnv, (unsigned long long)mix);
    return 0;
}
