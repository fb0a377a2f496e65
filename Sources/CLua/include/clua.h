// The C side of the Lua bridge: the only code in Automator that raises Lua errors or yields.
//
// Swift calls only functions that cannot raise (see docs/ARCHITECTURE.md, "The bridge"):
// the functions declared here, and the Lua API functions that merely read the stack or
// push values. Allocations made while Swift runs are never refused by the memory cap, so a
// push from Swift cannot raise unless the machine itself is out of memory.
#ifndef AUTOMATOR_CLUA_H
#define AUTOMATOR_CLUA_H

#include <stddef.h>
#include <stdint.h>
#include <lua5.4/lua.h>
#include <lua5.4/lauxlib.h>
#include <lua5.4/lualib.h>

/// A host function's result when it failed: its message is on the top of the stack, and the
/// trampoline raises it, prefixed with the calling script's `file:line:`.
#define AU_HOST_ERROR (-1)

/// A host function's result when it started work that finishes later: the run yields to its
/// host, which resumes it with `true, results...` or `false, message` on the run's stack.
/// The values become the call's results, or its error at the script's `file:line:`.
#define AU_HOST_WAIT (-2)

/// The start of the chunk name of Lua code the host itself provides (the objects playbooks use):
/// an error raised by a host function names the first script line outside such code.
#define AU_HOST_CHUNK "=[host]"

/// Calls the Swift host function `function` on the stack of `L`; returns how many results
/// it pushed, AU_HOST_ERROR or AU_HOST_WAIT. Must never raise.
typedef int (*au_dispatch_fn)(lua_State *L, void *function);

/// Releases a Swift object owned by a userdata that Lua collected.
typedef void (*au_release_fn)(void *object);

// MARK: - State

/// A new state with the accounting allocator and the sandbox's frozen base.
/// Returns NULL when memory runs out or the base cannot be built.
lua_State *au_newstate(au_dispatch_fn dispatch, au_release_fn release);
void au_close(lua_State *L);

/// The memory caps in bytes (0: none): `state` on all the state's memory, `run` on each run's
/// account. They apply while Lua code runs, not while the host does.
void au_set_memory_limits(lua_State *L, size_t state, size_t run);
size_t au_memory_used(lua_State *L);

/// Opens an account for a run's memory: while it is current (au_use_account), what is
/// allocated, and whatever is grown, is charged to it, and freeing a block credits the account
/// it was charged to. Returns 0 when memory runs out.
uint32_t au_open_account(lua_State *L);
/// Closes a run's account: the blocks charged to it that are still alive belong to nobody
/// (their bytes still count in the state's memory until they are freed).
void au_close_account(lua_State *L, uint32_t account);
/// Makes `account` (0: the shared one) the one charged from now on; returns the one it replaces.
uint32_t au_use_account(lua_State *L, uint32_t account);
/// How many runs have an account now.
uint32_t au_open_accounts(lua_State *L);

/// Which cap refused the last memory error of au_resume (AU_REFUSED_NONE: none did; the
/// machine itself ran out).
#define AU_REFUSED_NONE 0
#define AU_REFUSED_RUN 1
#define AU_REFUSED_STATE 2
int au_memory_refusal(lua_State *L);

// MARK: - Running code

/// Resumes `co` with `nargs` arguments on its stack, with the memory caps enforced (on the
/// current account: the run's) and the kill switch watching it. Returns lua_resume's status;
/// `*nresults` as lua_resume.
/// LUA_YIELD means a host function waits (AU_HOST_WAIT), possibly from inside one of the
/// script's own coroutines, or the run was killed (au_is_killed): a script's
/// `coroutine.yield` never reaches the host.
int au_resume(lua_State *L, lua_State *co, int nargs, int *nresults);

/// Closes the pending to-be-closed variables of a run that failed, as `lua_pcall` would
/// have, with the memory cap and the kill switch still on. Returns lua_resetthread's status.
int au_close_run(lua_State *L, lua_State *co);

/// Pushes onto `L` three strings about the error on top of `co`: where it happened
/// (`file:line:` of the innermost Lua frame, or ""), its message, and co's traceback.
/// Returns LUA_OK, or an error status with nothing pushed when memory ran out.
int au_push_error_report(lua_State *L, lua_State *co);

// MARK: - Kill switch (any thread, any time)

/// Stops the code running on L's state: at its next instruction the run yields to the host
/// (through every `pcall` and the script's coroutines), and au_resume returns LUA_YIELD with
/// au_is_killed true. Lasts until au_clear_kill. Safe to call from another thread.
void au_kill(lua_State *L, const char *reason);
int au_is_killed(lua_State *L);
/// The reason given to au_kill, or NULL.
const char *au_kill_reason(lua_State *L);
void au_clear_kill(lua_State *L);

// MARK: - Sandbox

/// Pushes the frozen base that every run environment reads through. Host modules are set
/// into it before the first run; each run gets a private copy of each module on first use.
void au_push_base(lua_State *L);
/// Compiles `source` (text only) as a template: a factory whose runs share one compiled
/// prototype. Pushes the factory, or the error message; returns a status as lua_load does.
int au_load_template(lua_State *L, const char *source, size_t length, const char *chunkname);
/// Pops a factory and an environment (pushed in that order) and pushes a new closure of the
/// template whose _ENV is that environment, or an error message; returns a status.
int au_instantiate(lua_State *L);
/// Pops a host function that returns the time (seconds since the epoch) and makes os.time()
/// and os.date() without a time argument read it.
void au_use_clock(lua_State *L);
/// Pushes a new run environment (`_ENV`): empty, reading through to the base.
/// Returns LUA_OK, or an error status with the message pushed instead.
int au_new_environment(lua_State *L);
/// Adds a folder in which `require` looks for `NAME.lua`. Returns a lua status.
int au_add_module_path(lua_State *L, const char *folder);

// MARK: - Host functions and objects

/// Pushes a Lua function that calls the Swift host function `function` through the trampoline.
void au_push_host_function(lua_State *L, void *function);
/// Pushes the `__gc` function for host object metatables: it releases the object.
void au_push_object_finalizer(lua_State *L);
/// Pushes a userdata holding a retained Swift object, with the metatable on the stack at
/// `metatable` (an absolute index).
void au_push_object(lua_State *L, void *object, int metatable);
/// The Swift object held by the userdata at `index`, or NULL if it is not a host object.
void *au_to_object(lua_State *L, int index);

/// A Lua C function for the host's own Lua, which has no `debug` library: given a Lua function,
/// returns where it is defined (`integrations/acme.lua:12`), or nil for any other value.
int au_defined_at(lua_State *L);

// MARK: - Macros Swift cannot call

static inline void au_pop(lua_State *L, int n) { lua_settop(L, -(n)-1); }
static inline int au_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline const char *au_tostring(lua_State *L, int index, size_t *length) {
    return lua_tolstring(L, index, length);
}
static inline void au_collect_garbage(lua_State *L) { lua_gc(L, LUA_GCCOLLECT); }
static inline int au_isinteger(lua_State *L, int index) { return lua_isinteger(L, index); }

#endif
