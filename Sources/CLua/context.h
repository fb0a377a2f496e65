// Per-state context shared by the C files of the bridge. Not visible to Swift.
#ifndef AUTOMATOR_CONTEXT_H
#define AUTOMATOR_CONTEXT_H

#include <stdatomic.h>
#include <stdint.h>
#include "clua.h"

enum { AU_KILL_NONE = 0, AU_KILL_WRITING = 1, AU_KILL_SET = 2 };

/// Whose memory a block is: the account charged for it when it was made or last grown. It
/// precedes the block Lua sees; 16 bytes keep malloc's alignment.
typedef struct au_header {
    _Alignas(16) uint32_t account;
    uint32_t generation;  // the account's when charged: once it moves, the block is nobody's
} au_header;

/// The memory of one run (account 0: the shared one, of the host and whatever no run made).
typedef struct au_account {
    size_t used;          // bytes of the blocks it owns
    uint32_t generation;  // moves when the run ends, so that its blocks freed later credit nobody
    uint32_t next_free;   // while closed: the next closed account (0: none)
    int near_limit;       // a growth was refused and its memory has not come down since
} au_account;

typedef struct au_context {
    size_t used;            // bytes allocated by this state, every account's and nobody's
    size_t limit;           // cap on `used` while Lua code runs; 0: none
    int near_limit;         // a growth was refused by `limit` and memory has not come down since
    size_t run_limit;       // cap on each run's account while Lua code runs; 0: none
    au_account *accounts;   // [0] is the shared account
    uint32_t account_count; // slots in use in `accounts`, open or closed
    uint32_t account_capacity;
    uint32_t free_account;  // the first closed slot to reuse (0: none)
    uint32_t open_accounts; // runs with an account now
    uint32_t current;       // the account charged for what is allocated now
    int refused;            // AU_REFUSED_*: which cap refused the last growth of this resume
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
