// Compiled once, run many times: a script is compiled as the body of a vararg function that a
// factory returns, so every run of it gets its own closure of one shared prototype (the
// compiled code, constants and debug information), bound to the run's own _ENV.
#include <string.h>
#include "context.h"

static const char HOLDER_KEY = 'h';  // registry: a function that returns a closure over its argument

// The factory's text in three pieces, read without copying the script. The prefix shares the
// script's first line, so line numbers are the script's own.
struct template_reader {
    const char *pieces[3];
    size_t lengths[3];
    int next;
};

static const char *read_template(lua_State *L, void *data, size_t *size) {
    (void)L;
    struct template_reader *reader = data;
    while (reader->next < 3) {
        int piece = reader->next++;
        if (reader->lengths[piece] > 0) {
            *size = reader->lengths[piece];
            return reader->pieces[piece];
        }
    }
    *size = 0;
    return NULL;
}

int au_load_template(lua_State *L, const char *source, size_t length, const char *chunkname) {
    static const char prefix[] = "return function(...) ";
    static const char suffix[] = "\nend";
    struct template_reader reader = {
        {prefix, source, suffix}, {sizeof prefix - 1, length, sizeof suffix - 1}, 0};
    int status = lua_load(L, read_template, &reader, chunkname, "t");
    if (status == LUA_OK) {
        // The factory itself reaches no globals: only the closures it makes get an _ENV.
        lua_pushnil(L);
        lua_setupvalue(L, -2, 1);
    } else if (status == LUA_ERRSYNTAX) {
        // The error as the source alone gives it: at its end, the factory's closing `end` would
        // be blamed, a line past the file ("near 'end'" where Lua says "near <eof>"). Only on
        // failure, so a script that compiles is still compiled once.
        if (luaL_loadbufferx(L, source, length, chunkname, "t") == LUA_ERRSYNTAX)
            lua_replace(L, -2);
        else
            lua_pop(L, 1);
    }
    return status;
}

// 1: the factory, 2: the run's environment. Returns the run's closure.
static int instantiate(lua_State *L) {
    lua_pushvalue(L, 1);
    lua_call(L, 0, 1);
    int closure = lua_gettop(L);
    for (int index = 1;; index++) {
        const char *name = lua_getupvalue(L, closure, index);
        if (name == NULL) break;  // the script reads no global: it needs no _ENV
        lua_pop(L, 1);
        if (strcmp(name, "_ENV") != 0) continue;
        if (lua_rawgetp(L, LUA_REGISTRYINDEX, &HOLDER_KEY) == LUA_TNIL) {
            lua_pop(L, 1);
            if (luaL_loadstring(L, "local value = ... return function() return value end") != LUA_OK) {
                return lua_error(L);
            }
            lua_pushvalue(L, -1);
            lua_rawsetp(L, LUA_REGISTRYINDEX, &HOLDER_KEY);
        }
        lua_pushvalue(L, 2);
        lua_call(L, 1, 1);  // a closure with a fresh upvalue that holds the environment
        lua_upvaluejoin(L, closure, index, -1, 1);
        lua_pop(L, 1);
        break;
    }
    return 1;
}

int au_instantiate(lua_State *L) {
    lua_pushcfunction(L, instantiate);
    lua_insert(L, -3);
    return lua_pcall(L, 2, 1, 0);
}
