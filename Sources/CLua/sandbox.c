// The sandbox, by construction: a frozen base that no script can reach, and per-run
// environments that copy what they use from it on first access.
//
// A run's `_ENV` starts empty. Its metatable's `__index` finds the name in the base,
// copies a library table (so `string.x = 1` or `rawset(string, ...)` stay in this run),
// builds per-run functions (`_G`, `load`, `require`), and caches the result in the
// environment, so later lookups are plain table hits: as fast as stock Lua.
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "context.h"

static const char BASE_KEY = 'b';          // registry: the frozen base
static const char ENVMETA_KEY = 'e';       // registry: the environment metatable
static const char PATHS_KEY = 'p';         // registry: folders `require` searches
static const char LOADING_KEY = 'l';       // a sentinel while a module loads
static const char MODULES_KEY = 'm';       // registry: module files compiled, by path

enum { COPY_DEPTH_LIMIT = 8 };

// MARK: - Copies of library tables

static void copy_table(lua_State *L, int source, int depth) {
    source = lua_absindex(L, source);
    if (depth > COPY_DEPTH_LIMIT) luaL_error(L, "sandbox: library table nested too deeply");
    luaL_checkstack(L, 4, "sandbox: copying a library");
    lua_createtable(L, (int)lua_rawlen(L, source), 0);
    lua_pushnil(L);
    while (lua_next(L, source) != 0) {
        if (lua_type(L, -1) == LUA_TTABLE) {
            copy_table(L, -1, depth + 1);
            lua_replace(L, -2);
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
    // A protected metatable (`__metatable` set) is out of every run's reach, so the copies share
    // it: a host module's table keeps its `__index` (`expect`'s "did you mean"). Another is left
    // behind, since a run could change it under the others. Its metamethods must be functions:
    // an `__index` table would hand every run the same mutable values.
    if (lua_getmetatable(L, source)) {
        if (lua_getfield(L, -1, "__metatable") != LUA_TNIL) {
            lua_pop(L, 1);
            lua_setmetatable(L, -2);
        } else {
            lua_pop(L, 2);
        }
    }
}

// MARK: - The environment metatable

// __index(env, key): upvalue 1 is the base, upvalue 2 the per-run factories.
static int env_index(lua_State *L) {
    lua_settop(L, 2);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL) {
        lua_pushvalue(L, 1);
        lua_call(L, 1, 1);
    } else {
        lua_pop(L, 1);
        lua_pushvalue(L, 2);
        int type = lua_rawget(L, lua_upvalueindex(1));
        if (type == LUA_TNIL) return 1;  // an undefined global: nothing to cache
        if (type == LUA_TTABLE) {
            copy_table(L, -1, 0);
            lua_replace(L, -2);
        }
    }
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
    return 1;
}

static void materialize(lua_State *L, int env, int names) {
    lua_pushnil(L);
    while (lua_next(L, names) != 0) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, env) == LUA_TNIL) {
            lua_pushvalue(L, -2);
            lua_gettable(L, env);  // through env_index
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
}

// __pairs(env): what a run sees is the base too, so list it.
static int env_pairs(lua_State *L) {
    luaL_checkstack(L, 6, NULL);
    materialize(L, 1, lua_upvalueindex(1));
    materialize(L, 1, lua_upvalueindex(2));
    lua_getglobal(L, "next");
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

// MARK: - Per-run functions

static const char *module_reader(lua_State *L, void *data, size_t *size) {
    (void)data;
    luaL_checkstack(L, 2, "too many nested functions");
    lua_pushvalue(L, 1);
    lua_call(L, 0, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        *size = 0;
        return NULL;
    }
    if (!lua_isstring(L, -1)) luaL_error(L, "reader function must return a string");
    lua_replace(L, 5);  // keeps the piece alive while the parser reads it
    return lua_tolstring(L, 5, size);
}

// load(chunk [, chunkname [, mode [, env]]]): text only, whatever the mode says (a binary
// chunk fails to load); `_ENV` is the run's unless one is given.
static int sandbox_load(lua_State *L) {
    size_t length;
    const char *text = lua_tolstring(L, 1, &length);
    int env = lua_isnone(L, 4) ? lua_upvalueindex(1) : 4;
    int status;
    if (text != NULL) {
        const char *name = luaL_optstring(L, 2, text);
        status = luaL_loadbufferx(L, text, length, name, "t");
    } else {
        const char *name = luaL_optstring(L, 2, "=(load)");
        luaL_checktype(L, 1, LUA_TFUNCTION);
        lua_settop(L, 5);
        status = lua_load(L, module_reader, NULL, name, "t");
    }
    if (status != LUA_OK) {
        luaL_pushfail(L);
        lua_insert(L, -2);
        return 2;
    }
    lua_pushvalue(L, env);
    if (lua_setupvalue(L, -2, 1) == NULL) lua_pop(L, 1);
    return 1;
}

static int make_load(lua_State *L) {
    lua_pushcclosure(L, sandbox_load, 1);
    return 1;
}

static int make_G(lua_State *L) { return 1; }

static int valid_module_name(const char *name, size_t length) {
    if (length == 0 || name[0] == '.' || name[length - 1] == '.') return 0;
    for (size_t i = 0; i < length; i++) {
        char ch = name[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '_' || ch == '-' || (ch == '.' && name[i + 1] != '.');
        if (!ok) return 0;
    }
    return 1;
}

// Pushes the path of the first `FOLDER/NAME.lua` that exists and returns 1; or pushes a
// message that lists every file tried and returns 0.
static int find_module(lua_State *L, const char *name) {
    int top = lua_gettop(L);
    const char *file = luaL_gsub(L, name, ".", "/");
    lua_pushfstring(L, "module '%s' not found:", name);
    int message = lua_gettop(L);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &PATHS_KEY);
    int paths = lua_gettop(L);
    lua_Integer count = (lua_Integer)lua_rawlen(L, paths);
    if (count == 0) {
        lua_pushfstring(L, "%s no module folders are configured", lua_tostring(L, message));
        lua_replace(L, message);
    }
    for (lua_Integer i = 1; i <= count; i++) {
        lua_rawgeti(L, paths, i);
        const char *path = lua_pushfstring(L, "%s/%s.lua", lua_tostring(L, -1), file);
        // A probe without opening the file (the watcher's `require` looked for every message).
        if (access(path, R_OK) == 0) {
            lua_replace(L, top + 1);
            lua_settop(L, top + 1);
            return 1;
        }
        lua_pushfstring(L, "%s\n\tno file '%s'", lua_tostring(L, message), path);
        lua_replace(L, message);
        lua_pop(L, 2);
    }
    lua_copy(L, message, top + 1);
    lua_settop(L, top + 1);
    return 0;
}

// Pushes the module file at `path` as a function of its own, bound to `env`. Each file is
// compiled once per state (a template, as scripts are: template.c), and again when its size or
// modification time changes: the chat watcher's `require("lib.findings")` compiled it for every
// message.
static void load_module(lua_State *L, const char *name, const char *path, int env) {
    struct stat info;
    if (stat(path, &info) != 0)
        luaL_error(L, "error loading module '%s' from file '%s':\n\tcannot read it", name, path);
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &MODULES_KEY) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &MODULES_KEY);
    }
    int modules = lua_gettop(L);
    lua_Integer stamp[3] = {(lua_Integer)info.st_mtim.tv_sec, (lua_Integer)info.st_mtim.tv_nsec,
                            (lua_Integer)info.st_size};
    int fresh = lua_getfield(L, modules, path) == LUA_TTABLE;
    for (int i = 0; fresh && i < 3; i++) {
        fresh = lua_rawgeti(L, -1, i + 2) == LUA_TNUMBER && lua_tointeger(L, -1) == stamp[i];
        lua_pop(L, 1);
    }
    if (!fresh) {
        lua_pop(L, 1);
        FILE *file = fopen(path, "rb");
        if (file == NULL)
            luaL_error(L, "error loading module '%s' from file '%s':\n\tcannot read it", name, path);
        luaL_Buffer buffer;
        luaL_buffinit(L, &buffer);
        int first = getc(file);
        if (first == '#') luaL_addstring(&buffer, "--");  // a first line such as #!/usr/bin/lua
        if (first != EOF) ungetc(first, file);
        size_t count;
        do {
            count = fread(luaL_prepbuffer(&buffer), 1, LUAL_BUFFERSIZE, file);
            luaL_addsize(&buffer, count);
        } while (count == LUAL_BUFFERSIZE);
        int failed = ferror(file);
        fclose(file);
        if (failed) luaL_error(L, "error loading module '%s' from file '%s':\n\tcannot read it", name, path);
        luaL_pushresult(&buffer);
        size_t length;
        const char *source = lua_tolstring(L, -1, &length);
        const char *chunkname = lua_pushfstring(L, "@%s", path);
        if (au_load_template(L, source, length, chunkname) != LUA_OK)
            luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name, path, lua_tostring(L, -1));
        lua_createtable(L, 4, 0);
        lua_insert(L, -2);
        lua_rawseti(L, -2, 1);
        for (int i = 0; i < 3; i++) {
            lua_pushinteger(L, stamp[i]);
            lua_rawseti(L, -2, i + 2);
        }
        lua_pushvalue(L, -1);
        lua_setfield(L, modules, path);
        lua_replace(L, modules + 1);
        lua_settop(L, modules + 1);
    }
    lua_rawgeti(L, -1, 1);
    lua_pushvalue(L, env);
    if (au_instantiate(L) != LUA_OK) lua_error(L);
    lua_replace(L, modules);
    lua_settop(L, modules);
}

// require(name): the runtime's modules, then `NAME.lua` in the configured folders, as text,
// with the run's `_ENV`. Upvalue 1 is the run's environment, upvalue 2 its loaded modules.
static int sandbox_require(lua_State *L) {
    size_t length;
    const char *name = luaL_checklstring(L, 1, &length);
    lua_settop(L, 1);
    lua_pushvalue(L, 1);
    if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL) {
        if (lua_touserdata(L, -1) == &LOADING_KEY)
            return luaL_error(L, "module '%s' requires itself (a loop of require calls)", name);
        return 1;
    }
    au_push_base(L);
    lua_pushvalue(L, 1);
    if (lua_rawget(L, -2) == LUA_TTABLE) {
        lua_pushvalue(L, 1);
        lua_gettable(L, lua_upvalueindex(1));  // the run's own copy, as the global
    } else {
        if (!valid_module_name(name, length))
            return luaL_error(L, "module '%s' not found: a module name is letters, digits, '_', '-' "
                                 "and single dots", name);
        lua_settop(L, 1);
        if (!find_module(L, name)) {
            // At the caller's line, as stock Lua's require says it: `playbook.lua:1: module ...`.
            luaL_where(L, 1);
            lua_insert(L, -2);
            lua_concat(L, 2);
            return lua_error(L);
        }
        const char *path = lua_tostring(L, 2);
        load_module(L, name, path, lua_upvalueindex(1));
        lua_pushvalue(L, 1);
        lua_pushlightuserdata(L, (void *)&LOADING_KEY);
        lua_rawset(L, lua_upvalueindex(2));
        lua_pushvalue(L, 1);
        lua_pushvalue(L, 2);
        if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
            lua_pushvalue(L, 1);
            lua_pushnil(L);
            lua_rawset(L, lua_upvalueindex(2));  // a later require may try again
            return lua_error(L);
        }
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            lua_pushboolean(L, 1);
        }
    }
    lua_pushvalue(L, 1);
    lua_pushvalue(L, -2);
    lua_rawset(L, lua_upvalueindex(2));
    return 1;
}

static int make_require(lua_State *L) {
    lua_newtable(L);
    lua_pushcclosure(L, sandbox_require, 2);
    return 1;
}

// MARK: - Base functions with sandbox rules

static int sandbox_setmetatable(lua_State *L) {
    int type = lua_type(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argexpected(L, type == LUA_TNIL || type == LUA_TTABLE, 2, "nil or table");
    if (type == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "__gc metamethods are not allowed in the sandbox (use a <close> "
                                 "variable to release resources)");
        lua_pop(L, 1);
    }
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

static int sandbox_collectgarbage(lua_State *L) {
    const char *option = luaL_optstring(L, 1, "collect");
    if (strcmp(option, "count") != 0)
        return luaL_error(L, "collectgarbage(\"%s\") is not allowed in the sandbox; only \"count\" is",
                          option);
    lua_pushnumber(L, (lua_Number)lua_gc(L, LUA_GCCOUNT) + (lua_Number)lua_gc(L, LUA_GCCOUNTB) / 1024);
    return 1;
}

// Once a run is killed, a script's message handler must not run: Lua calls it from inside
// the kill hook, where hooks are off, so a handler that loops could never be stopped.
static int guarded_handler(lua_State *L) {
    if (atomic_load(&au_ctx(L)->killed) == AU_KILL_SET) return 1;  // the kill's message
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int xpcall_done(lua_State *L, int status, lua_KContext context) {
    (void)status;
    (void)context;
    return lua_gettop(L);
}

// xpcall(f, handler, ...): the stock xpcall (upvalue 1) with the handler guarded.
static int sandbox_xpcall(lua_State *L) {
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, guarded_handler, 1);
    lua_replace(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_callk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, xpcall_done);
    return lua_gettop(L);
}

// MARK: - Coroutines that keep the kill switch on the running thread

static int coroutine_state(lua_State *L, lua_State *co) {
    if (L == co) return 'r';
    switch (lua_status(co)) {
    case LUA_YIELD: return 's';
    case LUA_OK: {
        lua_Debug ar;
        if (lua_getstack(co, 0, &ar)) return 'n';
        return lua_gettop(co) == 0 ? 'd' : 's';
    }
    default: return 'd';
    }
}

// Resumes co with `nargs` values from L; returns the number of results moved to L, or -1
// with the error message on L.
//
// When co stops because a host function waits or the run was killed (not because the script
// yielded), that is passed up: this coroutine yields too, and `k` resumes co with the host's
// answer later. So a host call deep in a script's coroutines suspends the whole run, as if
// they were one thread, and a kill reaches the host whatever coroutine it caught.
static int resume_with_switch(lua_State *L, lua_State *co, int nargs, lua_KContext base, lua_KFunction k) {
    if (!lua_checkstack(co, nargs)) {
        lua_pushliteral(L, "too many arguments to resume");
        return -1;
    }
    au_context *c = au_ctx(L);
    lua_xmove(L, co, nargs);
    au_enter_thread(c, co);
    int nresults;
    int status = lua_resume(co, L, nargs, &nresults);
    au_enter_thread(c, L);
    if (status == LUA_YIELD && (c->host_wait || atomic_load(&c->killed) == AU_KILL_SET))
        return lua_yieldk(L, 0, base, k);
    if (status == LUA_OK || status == LUA_YIELD) {
        if (!lua_checkstack(L, nresults + 1)) {
            lua_pop(co, nresults);
            lua_pushliteral(L, "too many results to resume");
            return -1;
        }
        lua_xmove(co, L, nresults);
        return nresults;
    }
    lua_xmove(co, L, 1);
    return -1;
}

static lua_State *check_coroutine(lua_State *L, int index) {
    lua_State *co = lua_tothread(L, index);
    luaL_argexpected(L, co != NULL, index, "coroutine");
    return co;
}

static int finish_resume(lua_State *L, int n) {
    if (n < 0) {
        lua_pushboolean(L, 0);
        lua_insert(L, -2);
        return 2;
    }
    lua_pushboolean(L, 1);
    lua_insert(L, -(n + 1));
    return n + 1;
}

// After a passed-up host wait: the host's answer is on top, above the coroutine (index 1).
static int coroutine_resume_continued(lua_State *L, int status, lua_KContext base) {
    (void)status;
    lua_State *co = lua_tothread(L, 1);
    return finish_resume(L, resume_with_switch(L, co, lua_gettop(L) - (int)base, base, coroutine_resume_continued));
}

static int coroutine_resume(lua_State *L) {
    lua_State *co = check_coroutine(L, 1);
    return finish_resume(L, resume_with_switch(L, co, lua_gettop(L) - 1, 1, coroutine_resume_continued));
}

static int finish_wrapped(lua_State *L, lua_State *co, int n) {
    if (n >= 0) return n;
    int status = lua_status(co);
    if (status != LUA_OK && status != LUA_YIELD) {  // the coroutine failed: close it
        status = au_reset_thread(au_ctx(L), co, L);
        lua_xmove(co, L, 1);
        lua_remove(L, -2);
    }
    if (status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

static int coroutine_wrapped_continued(lua_State *L, int status, lua_KContext base) {
    (void)status;
    lua_State *co = lua_tothread(L, lua_upvalueindex(1));
    return finish_wrapped(L, co, resume_with_switch(L, co, lua_gettop(L), base, coroutine_wrapped_continued));
}

static int coroutine_wrapped(lua_State *L) {
    lua_State *co = lua_tothread(L, lua_upvalueindex(1));
    return finish_wrapped(L, co, resume_with_switch(L, co, lua_gettop(L), 0, coroutine_wrapped_continued));
}

static int coroutine_wrap(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    lua_pushcclosure(L, coroutine_wrapped, 1);
    return 1;
}

static int coroutine_close(lua_State *L) {
    lua_State *co = check_coroutine(L, 1);
    int state = coroutine_state(L, co);
    if (state != 's' && state != 'd')
        return luaL_error(L, "cannot close a %s coroutine", state == 'r' ? "running" : "normal");
    int status = au_reset_thread(au_ctx(L), co, L);
    if (status == LUA_OK) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushboolean(L, 0);
    lua_xmove(co, L, 1);
    return 2;
}

// The run's root coroutine belongs to the host: a script sees it as the main thread.
static int coroutine_yield(lua_State *L) {
    if (L == au_ctx(L)->root) return luaL_error(L, "attempt to yield from outside a coroutine");
    return lua_yield(L, lua_gettop(L));
}

static int coroutine_running(lua_State *L) {
    int main = lua_pushthread(L);
    lua_pushboolean(L, main || L == au_ctx(L)->root);
    return 2;
}

static int coroutine_isyieldable(lua_State *L) {
    lua_State *co = lua_isnone(L, 1) ? L : check_coroutine(L, 1);
    lua_pushboolean(L, co != au_ctx(L)->root && lua_isyieldable(co));
    return 1;
}

// MARK: - Building the base

static void set_functions(lua_State *L, int table, const luaL_Reg *functions) {
    for (; functions->name != NULL; functions++) {
        lua_pushcfunction(L, functions->func);
        lua_setfield(L, table, functions->name);
    }
}

// Copies the named fields of the table at `from` into the table at `to`.
static void copy_fields(lua_State *L, int from, int to, const char *const *names) {
    for (; *names != NULL; names++) {
        lua_getfield(L, from, *names);
        lua_setfield(L, to, *names);
    }
}

static void open_library(lua_State *L, int base, const char *name, lua_CFunction open) {
    luaL_requiref(L, name, open, 0);
    lua_setfield(L, base, name);
}

int au_open_sandbox(lua_State *L) {
    static const char *const base_names[] = {
        "assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall", "print", "rawequal",
        "rawget", "rawlen", "rawset", "select", "tonumber", "tostring", "type", "_VERSION",
        NULL};
    static const char *const os_names[] = {"time", "clock", "date", "difftime", NULL};
    static const luaL_Reg base_rules[] = {
        {"setmetatable", sandbox_setmetatable}, {"collectgarbage", sandbox_collectgarbage}, {NULL, NULL}};
    static const luaL_Reg coroutine_rules[] = {
        {"resume", coroutine_resume}, {"wrap", coroutine_wrap}, {"close", coroutine_close},
        {"yield", coroutine_yield}, {"running", coroutine_running},
        {"isyieldable", coroutine_isyieldable}, {NULL, NULL}};
    static const luaL_Reg factories[] = {
        {"_G", make_G}, {"load", make_load}, {"require", make_require}, {NULL, NULL}};

    lua_newtable(L);
    int base = lua_gettop(L);

    luaL_requiref(L, LUA_GNAME, luaopen_base, 0);
    copy_fields(L, -1, base, base_names);
    lua_getfield(L, -1, "xpcall");
    lua_pushcclosure(L, sandbox_xpcall, 1);
    lua_setfield(L, base, "xpcall");
    lua_pop(L, 1);
    set_functions(L, base, base_rules);

    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 0);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    au_open_patterns(L, lua_gettop(L));  // the string metatable's __index sees them too
    lua_setfield(L, base, LUA_STRLIBNAME);
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");  // the shared string library stays out of reach
    lua_pop(L, 2);

    open_library(L, base, LUA_TABLIBNAME, luaopen_table);
    open_library(L, base, LUA_MATHLIBNAME, luaopen_math);
    open_library(L, base, LUA_UTF8LIBNAME, luaopen_utf8);

    luaL_requiref(L, LUA_COLIBNAME, luaopen_coroutine, 0);
    set_functions(L, lua_gettop(L), coroutine_rules);
    lua_setfield(L, base, LUA_COLIBNAME);

    luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
    lua_newtable(L);
    copy_fields(L, -2, lua_gettop(L), os_names);
    lua_setfield(L, base, LUA_OSLIBNAME);
    lua_pop(L, 1);

    lua_newtable(L);
    int factory_table = lua_gettop(L);
    set_functions(L, factory_table, factories);

    lua_createtable(L, 0, 3);
    lua_pushvalue(L, base);
    lua_pushvalue(L, factory_table);
    lua_pushcclosure(L, env_index, 2);
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, base);
    lua_pushvalue(L, factory_table);
    lua_pushcclosure(L, env_pairs, 2);
    lua_setfield(L, -2, "__pairs");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &ENVMETA_KEY);

    lua_pop(L, 1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &BASE_KEY);
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &PATHS_KEY);
    return 0;
}

// MARK: - The clock

// os.time() and os.date() read the clock through the host (upvalue 2), so that a durable run's
// reads are recorded and replayed; given a time, they are the stock functions (upvalue 1).
static lua_Integer host_now(lua_State *L) {
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_call(L, 0, 1);
    lua_Number now = lua_tonumber(L, -1);
    lua_pop(L, 1);
    return (lua_Integer)floor(now);
}

static int call_stock(lua_State *L) {
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

static int clock_time(lua_State *L) {
    if (!lua_isnoneornil(L, 1)) return call_stock(L);
    lua_pushinteger(L, host_now(L));
    return 1;
}

static int clock_date(lua_State *L) {
    if (lua_isnoneornil(L, 2)) {
        lua_settop(L, 1);
        if (lua_isnil(L, 1)) {
            lua_pop(L, 1);
            lua_pushliteral(L, "%c");
        }
        lua_pushinteger(L, host_now(L));
    }
    return call_stock(L);
}

static void wrap_os_function(lua_State *L, int os, const char *name, lua_CFunction wrapper, int clock) {
    lua_getfield(L, os, name);
    lua_pushvalue(L, clock);
    lua_pushcclosure(L, wrapper, 2);
    lua_setfield(L, os, name);
}

void au_use_clock(lua_State *L) {
    int clock = lua_gettop(L);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &BASE_KEY);
    lua_getfield(L, -1, LUA_OSLIBNAME);
    int os = lua_gettop(L);
    wrap_os_function(L, os, "time", clock_time, clock);
    wrap_os_function(L, os, "date", clock_date, clock);
    lua_settop(L, clock - 1);
}

// MARK: - Host interface

void au_push_base(lua_State *L) { lua_rawgetp(L, LUA_REGISTRYINDEX, &BASE_KEY); }

static int new_environment(lua_State *L) {
    lua_newtable(L);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &ENVMETA_KEY);
    lua_setmetatable(L, -2);
    return 1;
}

int au_new_environment(lua_State *L) {
    lua_pushcfunction(L, new_environment);
    return lua_pcall(L, 0, 1, 0);
}

static int add_module_path(lua_State *L) {
    const char *folder = lua_touserdata(L, 1);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &PATHS_KEY);
    lua_pushstring(L, folder);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    return 0;
}

int au_add_module_path(lua_State *L, const char *folder) {
    lua_pushcfunction(L, add_module_path);
    lua_pushlightuserdata(L, (void *)folder);
    return lua_pcall(L, 1, 0, 0);
}
