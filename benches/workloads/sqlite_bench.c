// SQLite (the amalgamation vendored by the sqlite3 package on npm), in
// memory: inserts, an index, joins and aggregates.
#include <stdio.h>
#include <stdlib.h>
#include "sqlite3.h"
static void exec(sqlite3 *db, const char *sql) {
    char *err = 0;
    if (sqlite3_exec(db, sql, 0, 0, &err) != SQLITE_OK) { fprintf(stderr, "sql error: %s\n", err); exit(1); }
}
static int print_row(void *unused, int n, char **vals, char **names) {
    (void)unused; (void)names;
    for (int i = 0; i < n; i++) printf("%s%s", i ? " " : "", vals[i] ? vals[i] : "NULL");
    printf("\n");
    return 0;
}
int main(void) {
    sqlite3 *db;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) return 1;
    exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, name TEXT, v REAL)");
    exec(db, "CREATE TABLE u(k INTEGER PRIMARY KEY, label TEXT)");
    exec(db, "BEGIN");
    sqlite3_stmt *ins;
    sqlite3_prepare_v2(db, "INSERT INTO t(k, name, v) VALUES (?, ?, ?)", -1, &ins, 0);
    char name[32];
    for (int i = 0; i < 200000; i++) {
        sqlite3_bind_int(ins, 1, (i * 7919) % 1000);
        snprintf(name, sizeof name, "name-%d", (i * 31) % 5000);
        sqlite3_bind_text(ins, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(ins, 3, (i % 977) * 0.5);
        sqlite3_step(ins);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    for (int k = 0; k < 1000; k++) {
        char sql[96];
        snprintf(sql, sizeof sql, "INSERT INTO u VALUES (%d, 'label-%d')", k, k % 37);
        exec(db, sql);
    }
    exec(db, "COMMIT");
    exec(db, "CREATE INDEX t_k ON t(k)");
    sqlite3_exec(db, "SELECT count(*), sum(v), min(name), max(name) FROM t", print_row, 0, 0);
    sqlite3_exec(db, "SELECT u.label, count(*), round(avg(t.v), 3) FROM t JOIN u ON t.k = u.k GROUP BY u.label ORDER BY 2 DESC, 1 LIMIT 5", print_row, 0, 0);
    sqlite3_exec(db, "SELECT k, count(DISTINCT name) FROM t WHERE k BETWEEN 100 AND 110 GROUP BY k ORDER BY k LIMIT 3", print_row, 0, 0);
    sqlite3_exec(db, "SELECT count(*) FROM t a JOIN t b ON a.id = b.id + 1 WHERE a.name = b.name", print_row, 0, 0);
    sqlite3_close(db);
    return 0;
}
