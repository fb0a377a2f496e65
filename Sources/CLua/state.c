// The state: accounting allocator, kill switch, resumption, trampolines and host objects.
#include <stdlib.h>
#include <string.h>
#include "context.h"

// MARK: - Accounting allocator

// Each block is charged to the account current when it was made or last grown: the run's
// while the run is resumed (au_use_account), the shared account otherwise. Freeing or
// shrinking it credits that account, whichever run is current: the collector frees one run's
// garbage while another runs. A block whose run has ended (its account's generation moved)
// is nobody's, and still counts in the state's `used` until it is freed.
//
// Growth is refused over a cap only while Lua code runs (`enforcing`): host code, which
// must never see a Lua error, is trusted to bound its own allocations. The run's cap is
// checked first, then the state's, which all runs share.
//
// Once a growth has been refused, the account (or the state) stays "near the limit" until
// its usage falls below 3/4 of the cap, and meanwhile refuses growth above 7/8 of it. Without
// this, a script that fills memory with small objects makes Lua run an emergency full
// collection for nearly every allocation near the cap (each freeing a few temporaries), and
// takes seconds to fail.
_Static_assert(sizeof(au_header) == 16, "the header must keep malloc's 16-byte alignment");

static int au_over(size_t used, size_t after, size_t limit, int *near_limit) {
    if (limit == 0) return 0;
    if (*near_limit && used < limit - limit / 4) *near_limit = 0;
    size_t ceiling = *near_limit ? limit - limit / 8 : limit;
    if (after <= ceiling) return 0;
    *near_limit = 1;
    return 1;
}

// `owner` is the account the block is charged to (NULL: a new block, or nobody's).
static int au_refuses(au_context *c, au_account *owner, size_t old, size_t nsize) {
    if (!c->enforcing || nsize <= old) return 0;
    au_account *run = &c->accounts[c->current];
    size_t mine = owner == run ? old : 0;
    if (c->current != 0 && au_over(run->used, run->used - mine + nsize, c->run_limit, &run->near_limit)) {
        c->refused = AU_REFUSED_RUN;
        return 1;
    }
    if (au_over(c->used, c->used - old + nsize, c->limit, &c->near_limit)) {
        c->refused = AU_REFUSED_STATE;
        return 1;
    }
    return 0;
}

static au_account *au_owner(au_context *c, const au_header *block) {
    au_account *account = &c->accounts[block->account];
    return account->generation == block->generation ? account : NULL;
}

static void *au_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    au_context *c = ud;
    au_header *block = ptr ? (au_header *)ptr - 1 : NULL;
    size_t old = ptr ? osize : 0;  // with ptr NULL, osize is a type tag
    au_account *owner = block ? au_owner(c, block) : NULL;
    if (nsize == 0) {
        free(block);
        c->used -= old;
        if (owner) owner->used -= old;
        return NULL;
    }
    if (au_refuses(c, owner, old, nsize)) return NULL;
    au_header *moved = realloc(block, sizeof *moved + nsize);
    if (moved == NULL) return NULL;
    c->used = c->used - old + nsize;
    if (owner) owner->used -= old;
    if (nsize > old) {  // whoever grows a block pays for all of it
        owner = &c->accounts[c->current];
        moved->account = c->current;
        moved->generation = owner->generation;
    }
    if (owner) owner->used += nsize;
    return moved + 1;
}

uint32_t au_open_account(lua_State *L) {
    au_context *c = au_ctx(L);
    uint32_t slot = c->free_account;
    if (slot != 0) {
        c->free_account = c->accounts[slot].next_free;
    } else {
        if (c->account_count == c->account_capacity) {
            if (c->account_capacity > UINT32_MAX / 2) return 0;
            uint32_t capacity = c->account_capacity * 2;
            au_account *grown = realloc(c->accounts, capacity * sizeof *grown);
            if (grown == NULL) return 0;
            c->accounts = grown;
            c->account_capacity = capacity;
        }
        slot = c->account_count++;
        c->accounts[slot].generation = 0;
    }
    au_account *account = &c->accounts[slot];
    account->used = 0;
    account->near_limit = 0;
    account->next_free = 0;
    c->open_accounts++;
    return slot;
}

void au_close_account(lua_State *L, uint32_t slot) {
    au_context *c = au_ctx(L);
    au_account *account = &c->accounts[slot];
    account->generation++;
    account->used = 0;
    account->next_free = c->free_account;
    c->free_account = slot;
    c->open_accounts--;
    if (c->current == slot) c->current = 0;
}

uint32_t au_use_account(lua_State *L, uint32_t account) {
    au_context *c = au_ctx(L);
    uint32_t outer = c->current;
    c->current = account;
    return outer;
}

uint32_t au_open_accounts(lua_State *L) { return au_ctx(L)->open_accounts; }
int au_memory_refusal(lua_State *L) { return au_ctx(L)->refused; }

static int au_panic(lua_State *L) {
    const char *message = lua_tostring(L, -1);
    fprintf(stderr, "automator: unprotected Lua error (a bug in the host): %s\n",
            message ? message : "(no message)");
    abort();
}

lua_State *au_newstate(au_dispatch_fn dispatch, au_release_fn release) {
    au_context *c = calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    c->account_capacity = 64;
    c->accounts = calloc(c->account_capacity, sizeof *c->accounts);
    if (c->accounts == NULL) {
        free(c);
        return NULL;
    }
    c->account_count = 1;  // the shared account, whose generation never moves
    c->dispatch = dispatch;
    c->release = release;
    lua_State *L = lua_newstate(au_alloc, c);
    if (L == NULL) {
        free(c->accounts);
        free(c);
        return NULL;
    }
    *(au_context **)lua_getextraspace(L) = c;  // copied into every thread created later
    lua_atpanic(L, au_panic);
    lua_gc(L, LUA_GCGEN, 0, 0);  // as the stock interpreter: most objects of a run die young
    lua_pushcfunction(L, au_open_sandbox);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        au_close(L);
        return NULL;
    }
    return L;
}

void au_close(lua_State *L) {
    au_context *c = au_ctx(L);
    c->enforcing = 0;
    lua_close(L);
    free(c->accounts);
    free(c);
}

void au_set_memory_limits(lua_State *L, size_t state, size_t run) {
    au_context *c = au_ctx(L);
    c->limit = state;
    c->run_limit = run;
    c->near_limit = 0;
}
size_t au_memory_used(lua_State *L) { return au_ctx(L)->used; }

// MARK: - Kill switch

// A killed run yields out of whatever it is doing: a yield from a hook passes every pcall,
// and the sandbox's coroutine functions pass it up to the host like a host wait. (Raising
// instead would be caught by each pcall in turn, and an error raised from a hook leaves the
// coroutine with hooks off, so its __close handlers could then loop forever.) Where the run
// cannot yield (inside a C function such as table.sort), lua_yield raises instead, and the
// next instruction outside that function yields.
static void au_kill_hook(lua_State *L, lua_Debug *ar) {
    au_context *c = au_ctx(L);
    if (atomic_load(&c->killed) != AU_KILL_SET) return;
    if (ar->event == LUA_HOOKCOUNT || ar->event == LUA_HOOKLINE) lua_yield(L, 0);
}

static void au_arm(lua_State *co) {
    lua_sethook(co, au_kill_hook, LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

void au_kill(lua_State *L, const char *reason) {
    au_context *c = au_ctx(L);
    int expected = AU_KILL_NONE;
    if (atomic_compare_exchange_strong(&c->killed, &expected, AU_KILL_WRITING)) {
        strncpy(c->reason, reason, sizeof c->reason - 1);
        c->reason[sizeof c->reason - 1] = '\0';
        atomic_store(&c->killed, AU_KILL_SET);
    }
    // lua_sethook is safe to call from another thread or a signal handler.
    lua_State *running = atomic_load(&c->running);
    if (running != NULL) au_arm(running);
}

int au_is_killed(lua_State *L) { return atomic_load(&au_ctx(L)->killed) == AU_KILL_SET; }

const char *au_kill_reason(lua_State *L) {
    au_context *c = au_ctx(L);
    return atomic_load(&c->killed) == AU_KILL_SET ? c->reason : NULL;
}

void au_clear_kill(lua_State *L) {
    au_context *c = au_ctx(L);
    atomic_store(&c->killed, AU_KILL_NONE);
    c->reason[0] = '\0';
    lua_sethook(L, NULL, 0, 0);
}

// Paired with au_kill: it stores `killed` then reads `running`; this stores `running` then
// reads `killed` (both sequentially consistent), so one of the two arms the thread.
void au_enter_thread(au_context *c, lua_State *co) {
    atomic_store(&c->running, co);
    if (atomic_load(&c->killed) == AU_KILL_SET) au_arm(co);
    else if (lua_gethook(co) == au_kill_hook) lua_sethook(co, NULL, 0, 0);
}

// MARK: - Running code

int au_resume(lua_State *L, lua_State *co, int nargs, int *nresults) {
    au_context *c = au_ctx(L);
    lua_State *outer_root = c->root;
    int outer_enforcing = c->enforcing;
    c->root = co;
    c->enforcing = 1;
    c->refused = AU_REFUSED_NONE;
    au_enter_thread(c, co);
    int status = lua_resume(co, L, nargs, nresults);
    atomic_store(&c->running, NULL);
    c->enforcing = outer_enforcing;
    c->root = outer_root;
    c->host_wait = 0;
    return status;
}

int au_reset_thread(au_context *c, lua_State *co, lua_State *back) {
    au_enter_thread(c, co);
    int status = lua_resetthread(co);
    if (back != NULL) au_enter_thread(c, back);
    else atomic_store(&c->running, NULL);
    return status;
}

int au_close_run(lua_State *L, lua_State *co) {
    au_context *c = au_ctx(L);
    int outer_enforcing = c->enforcing;
    c->enforcing = 1;
    int status = au_reset_thread(c, co, NULL);
    c->enforcing = outer_enforcing;
    return status;
}

// A table raised as an error (`error{ code = 42, message = "denied" }`), shown by its scalar
// fields, the first eight: `{code = 42, message = "denied"}`. Read raw: no metamethod of a
// script's runs in the error path. Leaves the text on top.
static void au_push_table_error(lua_State *L, int table) {
    int shown = 0;
    lua_pushliteral(L, "{");
    int text = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, table) != 0) {
        int key = lua_type(L, -2), value = lua_type(L, -1);
        if (shown == 8) {
            lua_pop(L, 2);
            lua_pushfstring(L, "%s, ...", lua_tostring(L, text));
            lua_replace(L, text);
            break;
        }
        if ((key == LUA_TSTRING || key == LUA_TNUMBER) &&
            (value == LUA_TSTRING || value == LUA_TNUMBER || value == LUA_TBOOLEAN)) {
            lua_pushvalue(L, -2);  // a copy: lua_tostring on the key itself would break lua_next
            lua_pushvalue(L, -2);
            const char *name = lua_tostring(L, -2);
            const char *shape = value == LUA_TSTRING ? "%s%s%s = \"%s\"" : "%s%s%s = %s";
            const char *shown_value = value == LUA_TBOOLEAN ? (lua_toboolean(L, -1) ? "true" : "false")
                                                            : lua_tostring(L, -1);
            lua_pushfstring(L, shape, lua_tostring(L, text), shown ? ", " : "", name, shown_value);
            lua_replace(L, text);
            lua_pop(L, 2);
            shown++;
        }
        lua_pop(L, 1);
    }
    if (shown == 0) {
        lua_pushliteral(L, "(error object is a table value)");
        lua_replace(L, text);
    } else {
        lua_pushfstring(L, "%s}", lua_tostring(L, text));
        lua_replace(L, text);
    }
}

static int au_error_report(lua_State *L) {
    lua_State *co = lua_touserdata(L, 1);
    lua_Debug frame;
    int located = 0;
    for (int level = 0; !located && lua_getstack(co, level, &frame); level++) {
        lua_getinfo(co, "Sl", &frame);
        if (frame.currentline > 0) {
            lua_pushfstring(L, "%s:%d:", frame.short_src, frame.currentline);
            located = 1;
        }
    }
    if (!located) lua_pushliteral(L, "");
    if (lua_type(co, -1) == LUA_TSTRING || lua_type(co, -1) == LUA_TNUMBER) {
        lua_pushstring(L, lua_tostring(co, -1));
    } else if (lua_type(co, -1) == LUA_TTABLE && lua_checkstack(co, 1)) {
        lua_pushvalue(co, -1);
        lua_xmove(co, L, 1);
        int table = lua_gettop(L);
        au_push_table_error(L, table);
        lua_remove(L, table);
        // error() gives a string its position; a table has none, so the report adds it.
        if (located) {
            lua_pushfstring(L, "%s %s", lua_tostring(L, -2), lua_tostring(L, -1));
            lua_remove(L, -2);
        }
    } else {
        lua_pushfstring(L, "(error object is a %s value)", luaL_typename(co, -1));
    }
    luaL_traceback(L, co, NULL, 0);
    return 3;
}

int au_push_error_report(lua_State *L, lua_State *co) {
    lua_pushcfunction(L, au_error_report);
    lua_pushlightuserdata(L, co);
    int status = lua_pcall(L, 1, 3, 0);
    if (status != LUA_OK) lua_pop(L, 1);
    return status;
}

int au_defined_at(lua_State *L) {
    lua_Debug function;
    if (lua_type(L, 1) != LUA_TFUNCTION) return 0;
    lua_pushvalue(L, 1);
    lua_getinfo(L, ">S", &function);
    if (function.linedefined <= 0) return 0;
    lua_pushfstring(L, "%s:%d", function.short_src, function.linedefined);
    return 1;
}

// MARK: - Host functions

// Raises the message on top at the script's line that made the call. Frames of the host's own
// Lua (chunks named "=[host] ...": the objects playbooks use) are skipped, so that an error in
// `inc:note(...)` names the playbook's line, not the line of the method that called the host.
static int au_raise_at_caller(lua_State *L) {
    lua_Debug frame;
    int level = 1;
    while (lua_getstack(L, level, &frame) && lua_getinfo(L, "S", &frame) &&
           strncmp(frame.source, AU_HOST_CHUNK, sizeof AU_HOST_CHUNK - 1) == 0) {
        level++;
    }
    luaL_where(L, level);
    lua_insert(L, -2);
    lua_concat(L, 2);
    return lua_error(L);
}

// Continues a host function that waited: above its arguments (`base` of them) the host left
// `true, results...` or `false, message`.
static int au_host_resumed(lua_State *L, int status, lua_KContext base) {
    (void)status;
    int flag = (int)base + 1;
    if (lua_toboolean(L, flag)) return lua_gettop(L) - flag;
    lua_settop(L, flag + 1);
    return au_raise_at_caller(L);
}

static int au_trampoline(lua_State *L) {
    au_context *c = au_ctx(L);
    int enforcing = c->enforcing;
    c->enforcing = 0;
    int n = c->dispatch(L, lua_touserdata(L, lua_upvalueindex(1)));
    c->enforcing = enforcing;
    if (n >= 0) return n;
    // The Swift frames have returned: raising or yielding here crosses none of them.
    if (n == AU_HOST_WAIT) {
        c->host_wait = 1;
        return lua_yieldk(L, 0, lua_gettop(L), au_host_resumed);
    }
    return au_raise_at_caller(L);
}

void au_push_host_function(lua_State *L, void *function) {
    lua_pushlightuserdata(L, function);
    lua_pushcclosure(L, au_trampoline, 1);
}

// MARK: - Host objects

static int au_object_finalize(lua_State *L) {
    void **slot = lua_touserdata(L, 1);
    if (slot != NULL && *slot != NULL) {
        void *object = *slot;
        *slot = NULL;
        au_ctx(L)->release(object);
    }
    return 0;
}

void au_push_object_finalizer(lua_State *L) { lua_pushcfunction(L, au_object_finalize); }

void au_push_object(lua_State *L, void *object, int metatable) {
    void **slot = lua_newuserdatauv(L, sizeof object, 0);
    *slot = object;
    lua_pushvalue(L, metatable);
    lua_setmetatable(L, -2);
}

void *au_to_object(lua_State *L, int index) {
    if (lua_type(L, index) != LUA_TUSERDATA || !lua_getmetatable(L, index)) return NULL;
    lua_pushliteral(L, "__gc");
    lua_rawget(L, -2);
    int hosted = lua_tocfunction(L, -1) == au_object_finalize;
    lua_pop(L, 2);
    if (!hosted || lua_rawlen(L, index) != sizeof(void *)) return NULL;
    return *(void **)lua_touserdata(L, index);
}
