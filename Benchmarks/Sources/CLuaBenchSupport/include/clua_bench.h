// What the benchmark harness needs from C: the C baseline function, and a way to put it in
// the sandbox's base (Automator has no API for C functions, on purpose). What may raise here
// runs under lua_pcall.
#ifndef AUTOMATOR_CLUA_BENCH_H
#define AUTOMATOR_CLUA_BENCH_H

#include <lua5.4/lua.h>

/// `bench_identity(n)` returns `n`; raises unless `n` is an integer (luaL_checkinteger).
int bench_identity(lua_State *L);

/// Sets `base[table_name] = { [function_name] = function }` in the sandbox's frozen base, so
/// that every run sees `table_name.function_name`. Returns a Lua status (LUA_OK on success).
int bench_add_base_function(lua_State *L, const char *table_name, const char *function_name,
                            lua_CFunction function);

#endif
