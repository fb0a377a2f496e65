// The C baseline of the host-call benchmark: a Lua C function that returns its integer
// argument. The benchmark compiles this one file twice: into the harness (registered in
// Automator's sandbox) and, at benchmark time, into a shared library that the stock lua5.4
// interpreter loads with package.loadlib. It includes nothing else, so that
// `cc -O2 -shared -fPIC -I/usr/include/lua5.4 identity.c` builds it.
#include <lua5.4/lua.h>
#include <lua5.4/lauxlib.h>

int bench_identity(lua_State *L) {
    lua_pushinteger(L, luaL_checkinteger(L, 1));
    return 1;
}
