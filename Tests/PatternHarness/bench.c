// Micro- and workload benchmarks of Sources/CLua/pattern.c against the stock string library.
//
// Runs a Lua file in a fresh state whose string library (and so the string metatable's
// __index) has either the stock pattern functions or ours, and prints the CPU time of the
// whole file. Scripts that time a part themselves print it with os.clock().
//
// Build and run: Tests/PatternHarness/bench.sh (builds it, runs every case both ways)
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "context.h"

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[1], "stock") != 0 && strcmp(argv[1], "ours") != 0)) {
        fprintf(stderr, "usage: %s stock|ours FILE.lua [args...]\n", argv[0]);
        return 2;
    }
    lua_State *L = luaL_newstate();
    au_context *ctx = calloc(1, sizeof *ctx);
    *(au_context **)lua_getextraspace(L) = ctx;
    luaL_openlibs(L);
    if (strcmp(argv[1], "ours") == 0) {
        lua_getglobal(L, "string");
        au_open_patterns(L, lua_gettop(L));
        lua_pop(L, 1);
    }
    lua_newtable(L);
    for (int i = 3; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 2);
    }
    lua_setglobal(L, "arg");
    double start = cpu_seconds();
    int status = luaL_dofile(L, argv[2]);
    double elapsed = cpu_seconds() - start;
    if (status != LUA_OK) {
        fprintf(stderr, "%s: %s\n", argv[2], lua_tostring(L, -1));
        return 1;
    }
    fprintf(stderr, "cpu %.1f ms\n", elapsed * 1000);
    lua_close(L);
    free(ctx);
    return 0;
}
