// Dense double matrix multiply (blocked), 256x256, 6 rounds.
#include <stdio.h>
#define N 256
static double a[N][N], b[N][N], c[N][N];
int main(void) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) { a[i][j] = (i * 3 + j) % 17 * 0.5; b[i][j] = (i - j) % 11 * 0.25; }
    double trace = 0;
    for (int round = 0; round < 6; round++) {
        for (int i = 0; i < N; i++) for (int j = 0; j < N; j++) c[i][j] = 0;
        for (int ii = 0; ii < N; ii += 32)
            for (int kk = 0; kk < N; kk += 32)
                for (int i = ii; i < ii + 32; i++)
                    for (int k = kk; k < kk + 32; k++) {
                        double aik = a[i][k];
                        for (int j = 0; j < N; j++) c[i][j] += aik * b[k][j];
                    }
        for (int i = 0; i < N; i++) trace += c[i][i];
        a[round][round] += 1.0;
    }
    printf("trace %.3f\n", trace);
    return 0;
}
