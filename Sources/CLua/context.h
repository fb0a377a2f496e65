// Per-state context shared by the C files of the bridge. Not visible to Swift.
#ifndef AUTOMATOR_CONTEXT_H
#define AUTOMATOR_CONTEXT_H

#include <stdatomic.h>
#include "clua.h"

enum { AU_KILL_NONE = 0, AU_KILL_WRITING = 1, AU_KILL_SET = 2 };

typedef struct au_context {
    size_t used;            // bytes allocated by this state
    size_t limit;           // cap while Lua code runs; 0: none
    int near_limit;         // a growth was refused and memory has not come down since
    int enforcing;          // 1 while Lua code runs, 0 while the host does
    atomic_int killed;      // AU_KILL_*
    char reason[256];       // written once, before killed becomes AU_KILL_SET
    _Atomic(lua_State *) running;  // the thread executing Lua code now, or NULL
    lua_State *root;        // the root coroutine of the run being resumed by the host
    int host_wait;          // a host function yielded to the host: set until au_resume returns
    au_dispatch_fn dispatch;
    au_release_fn release;
} au_context;

static inline au_context *au_ctx(lua_State *L) {
    return *(au_context **)lua_getextraspace(L);
}

/// Keeps the kill switch on the thread that is about to run Lua code.
void au_enter_thread(au_context *c, lua_State *co);

/// Closes co's pending to-be-closed variables (lua_resetthread) with the kill switch on co,
/// then on `back` (NULL: no thread runs). Returns lua_resetthread's status.
int au_reset_thread(au_context *c, lua_State *co, lua_State *back);

/// Registers the sandbox's base, environment metatable and library copies. Runs under pcall.
int au_open_sandbox(lua_State *L);
/// Replaces the string library's pattern functions by their bounded versions (pattern.c).
void au_open_patterns(lua_State *L, int string_table);

#endif
