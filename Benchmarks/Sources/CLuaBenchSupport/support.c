#include <lua5.4/lauxlib.h>
#include "clua_bench.h"

// Defined in Automator's CLua target (clua.h), linked into the harness with AutomatorRuntime.
void au_push_base(lua_State *L);

typedef struct {
    const char *table_name;
    const char *function_name;
    lua_CFunction function;
} base_function;

static int add_base_function(lua_State *L) {
    const base_function *entry = lua_touserdata(L, 1);
    au_push_base(L);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, entry->function);
    lua_setfield(L, -2, entry->function_name);
    lua_setfield(L, -2, entry->table_name);
    return 0;
}

int bench_add_base_function(lua_State *L, const char *table_name, const char *function_name,
                            lua_CFunction function) {
    base_function entry = {table_name, function_name, function};
    lua_pushcfunction(L, add_base_function);
    lua_pushlightuserdata(L, &entry);
    int status = lua_pcall(L, 1, 0, 0);
    if (status != LUA_OK) lua_pop(L, 1);
    return status;
}
