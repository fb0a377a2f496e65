// Bounded string patterns: string.find, string.match, string.gmatch and string.gsub.
//
// A count hook cannot interrupt a C function, so the stock pattern functions let one call such
// as ("a"):rep(10000):find(".-.-.-b") hold the host for hours. These replacements implement the
// pattern language of the Lua 5.4 reference manual (§6.4.1) and the four functions of §6.4,
// written from the manual and from the observed behaviour of the stock library (quirks
// included, so scripts see no difference), but they count their work and give up with a Lua
// error when one call has done too much of it, or as soon as the run is killed.
//
// How it works. A pattern is a flat sequence of items (there is no alternation or grouping), so
// it is first compiled into an array of items, each "[set]" becoming a 256-bit map.
// Matching walks that array with an explicit stack of choice points instead of recursing: a
// quantified item that still has alternatives leaves one entry, which is revisited on failure.
// Because a path through a flat sequence executes each item at most once, the stack never
// holds more entries than the pattern has quantified items, and the C stack depth does not
// depend on the pattern or the subject at all. For the same reason captures need no undo log:
// an item can only read captures written by earlier items, and those are either untouched
// since the choice point or rewritten by the retried path before they are read.
//
// With no recursion there is no depth limit either: where stock Lua gives up with "pattern too
// complex" after 200 nested repetitions or captures, these functions just answer.
//
// Stock Lua reports a malformed pattern only when the matcher reaches the bad spot (so
// ("abc"):find("z[") is simply nil); compilation therefore turns a malformed spot into an error
// item that raises the stock message when executed.
#define _GNU_SOURCE  // memmem
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include "context.h"

// MARK: - Limits

// Work allowed for one call of find/match/gsub, or one step of a gmatch iterator. A linear scan
// spends a handful of steps per subject byte, so 256 per byte lets any reasonable pattern run
// over large subjects, while the fixed part leaves room for real backtracking on small ones. At
// roughly 500 million steps per second a runaway pattern on a small subject stops within about
// 25 ms (and within about 0.5 s on a 1 MB subject, whose budget is 266 million steps).
#define AU_PATTERN_BASE_STEPS 10000000u
#define AU_PATTERN_STEPS_PER_BYTE 256u
static uint64_t step_budget(size_t subject_length) {
    return AU_PATTERN_BASE_STEPS + AU_PATTERN_STEPS_PER_BYTE * (uint64_t)subject_length;
}

// How often (in steps) the kill switch is read, so that a killed run stops inside a match.
#define AU_PATTERN_KILL_INTERVAL 4096u

// Captures per pattern, as in stock Lua (LUA_MAXCAPTURES); the capture bit masks need <= 32.
#define AU_PATTERN_MAXCAPTURES 32

// Patterns are compiled onto the C stack when they are this small (in items), else into a
// userdata.
#define AU_PATTERN_LOCAL_ITEMS 32
#define AU_PATTERN_LOCAL_SETS 8

#define NO_MATCH SIZE_MAX

// MARK: - Compiled patterns

enum {
    OP_CLASS,     // one byte of a class, possibly repeated (see rep)
    OP_OPEN,      // "(": a capture starts
    OP_CLOSE,     // ")": the capture `arg` ends
    OP_POSITION,  // "()": the capture `arg` is the current position
    OP_BALANCE,   // "%bxy"
    OP_FRONTIER,  // "%f[set]"
    OP_BACKREF,   // "%1".."%9"
    OP_AT_END,    // "$" as the last byte of the pattern
    OP_ERROR,     // a malformed spot: raises `byte` (an E_* code) when reached
    OP_ACCEPT,    // the end of the pattern: the match succeeded
};

enum { REP_ONE, REP_OPTIONAL, REP_STAR, REP_PLUS, REP_LAZY };  // none, ?, *, +, -
enum { CL_BYTE, CL_ANY, CL_ESCAPE, CL_SET };  // x, ".", "%a" (any class letter), "[set]"

enum {
    E_ENDS_WITH_ESCAPE,
    E_MISSING_BRACKET,
    E_BALANCE_ARGUMENTS,
    E_FRONTIER_BRACKET,
    E_CAPTURE_INDEX,  // arg: the index as written in the pattern
    E_NOTHING_TO_CLOSE,
    E_TOO_MANY_CAPTURES,
};

typedef struct {
    uint8_t op;
    uint8_t rep;    // OP_CLASS
    uint8_t cls;    // OP_CLASS
    uint8_t byte;   // CL_BYTE: the byte; CL_ESCAPE: the letter; OP_BALANCE: the opener;
                    // OP_ERROR: the E_* code
    uint8_t byte2;  // OP_BALANCE: the closer
    uint32_t arg;   // CL_SET, OP_FRONTIER: set index; captures: capture index; OP_ERROR: detail
} item;

// Class letters in a set are kept as letters, not expanded into the map: expanding one costs
// 256 ctype calls, which would dominate short calls such as s:find("[%w_]+") in a loop.
#define AU_PATTERN_SET_ESCAPES 4

typedef struct {
    uint8_t bits[32];                          // bytes listed alone or in ranges
    uint8_t escapes[AU_PATTERN_SET_ESCAPES];  // class letters listed, 0 after the last
    uint8_t negated;                           // "[^...]"
} byteset;

typedef struct {
    size_t item;   // the quantified item that left this choice
    size_t base;   // where the repetition started
    size_t count;  // bytes it takes on the path being tried
} choice;

typedef struct {
    item *items;
    byteset *sets;
    choice *choices;  // the backtracking stack: room for one entry per quantified item
    size_t nitems, nsets, nchoices;
    int ncaptures;
    uint32_t position_captures;    // bit i: capture i is a position capture
    uint32_t unfinished_captures;  // bit i: capture i is still open at the end of the pattern
    const item *first;  // a class every match must start with (for a quick scan), or NULL
} program;

static inline void set_add(byteset *set, unsigned char c) {
    set->bits[c >> 3] |= (uint8_t)(1u << (c & 7));
}

// Whether byte c belongs to the class %letter; -1 when letter names no class (then "%letter"
// stands for the letter itself). %z is no longer documented but stock Lua still accepts it.
// Classes are evaluated by <ctype.h> when matching, as stock Lua does, so they follow the locale.
static inline int escape_class(int letter, int c) {
    int upper = letter >= 'A' && letter <= 'Z';
    int r;
    switch (upper ? letter + ('a' - 'A') : letter) {
    case 'a': r = isalpha(c); break;
    case 'c': r = iscntrl(c); break;
    case 'd': r = isdigit(c); break;
    case 'g': r = isgraph(c); break;
    case 'l': r = islower(c); break;
    case 'p': r = ispunct(c); break;
    case 's': r = isspace(c); break;
    case 'u': r = isupper(c); break;
    case 'w': r = isalnum(c); break;
    case 'x': r = isxdigit(c); break;
    case 'z': r = c == 0; break;
    default: return -1;
    }
    r = r != 0;
    return upper ? !r : r;
}

static inline int set_has(const byteset *set, unsigned char c) {
    int in = (set->bits[c >> 3] >> (c & 7)) & 1;
    for (int i = 0; !in && i < AU_PATTERN_SET_ESCAPES && set->escapes[i] != 0; i++)
        in = escape_class(set->escapes[i], c);
    return in ^ set->negated;
}

// Adds "%x" to a set: a class letter, or else the byte x itself.
static void set_add_escape(byteset *set, unsigned char letter) {
    if (escape_class(letter, 'a') < 0) {
        set_add(set, letter);
        return;
    }
    for (int i = 0; i < AU_PATTERN_SET_ESCAPES; i++) {
        if (set->escapes[i] == letter) return;
        if (set->escapes[i] == 0) {
            set->escapes[i] = letter;
            return;
        }
    }
    for (int c = 0; c < 256; c++)  // a set with many classes: expand this one
        if (escape_class(letter, c)) set_add(set, (unsigned char)c);
}

// MARK: - Compiler

// Compilation runs twice: first with no storage to size the program, then to fill it.
typedef struct {
    const unsigned char *p;
    size_t len;
    program *g;         // g->items == NULL in the sizing pass
    size_t nitems, nsets, nchoices;
    item scratch_item;  // written to in the sizing pass
    // Capture bookkeeping is static: the items run in order, so at any item every earlier item
    // has run, and which capture a ")" closes is known from the text alone.
    int ncaptures;
    uint32_t open_captures;
    uint32_t position_captures;
} compiler;

static item *emit(compiler *c, uint8_t op) {
    item *it = c->g->items ? &c->g->items[c->nitems] : &c->scratch_item;
    c->nitems++;
    memset(it, 0, sizeof *it);
    it->op = op;
    return it;
}


static void emit_error(compiler *c, uint8_t code, uint32_t detail) {
    item *it = emit(c, OP_ERROR);
    it->byte = code;
    it->arg = detail;
}

// Compiles the "[...]" starting at p[i]. Returns the index after its "]", or 0 when there is
// none. The first byte after "[" or "[^" belongs to the set even if it is "]", and "%" protects
// the byte after it.
static size_t compile_set(compiler *c, size_t i, size_t *set_index) {
    const unsigned char *p = c->p;
    size_t len = c->len, j = i + 1;
    int negate = j < len && p[j] == '^';
    if (negate) j++;
    size_t body = j;
    do {
        if (j >= len) return 0;
        if (p[j++] == '%') {
            if (j >= len) return 0;
            j++;
        }
    } while (j >= len || p[j] != ']');
    size_t close = j;

    *set_index = c->nsets++;
    if (c->g->items == NULL) return close + 1;  // sizing pass
    byteset *set = &c->g->sets[*set_index];
    memset(set, 0, sizeof *set);
    set->negated = (uint8_t)negate;
    for (size_t k = body; k < close;) {
        unsigned char x = p[k];
        if (x == '%') {
            // Stock Lua reads the escaped byte even when it is the closing "]" (after a range
            // like "a-%" the "%" of "%%]" escapes the "]"): p[close] exists, so this is safe.
            set_add_escape(set, p[k + 1]);
            k += 2;
        } else if (k + 2 < close && p[k + 1] == '-') {
            for (int v = x; v <= p[k + 2]; v++) set_add(set, (unsigned char)v);
            k += 3;
        } else {
            set_add(set, x);
            k++;
        }
    }
    return close + 1;
}

// Compiles the single-byte class at p[i] and its quantifier. Returns the index after them, or 0
// after emitting an error item.
static size_t compile_class(compiler *c, size_t i) {
    const unsigned char *p = c->p;
    size_t len = c->len, next;
    uint8_t cls, byte = 0;
    size_t set_index = 0;
    switch (p[i]) {
    case '%':
        if (i + 1 >= len) {
            emit_error(c, E_ENDS_WITH_ESCAPE, 0);
            return 0;
        }
        cls = escape_class(p[i + 1], 'a') < 0 ? CL_BYTE : CL_ESCAPE;
        byte = p[i + 1];
        next = i + 2;
        break;
    case '[':
        next = compile_set(c, i, &set_index);
        if (next == 0) {
            emit_error(c, E_MISSING_BRACKET, 0);
            return 0;
        }
        cls = CL_SET;
        break;
    case '.':
        cls = CL_ANY;
        next = i + 1;
        break;
    default:
        cls = CL_BYTE;
        byte = p[i];
        next = i + 1;
        break;
    }
    uint8_t rep = REP_ONE;
    if (next < len) {
        switch (p[next]) {
        case '?': rep = REP_OPTIONAL; break;
        case '*': rep = REP_STAR; break;
        case '+': rep = REP_PLUS; break;
        case '-': rep = REP_LAZY; break;
        }
        if (rep != REP_ONE) next++;
    }
    item *it = emit(c, OP_CLASS);
    it->cls = cls;
    it->byte = byte;
    it->arg = (uint32_t)set_index;
    it->rep = rep;
    if (rep != REP_ONE) c->nchoices++;
    return next;
}

// Compiles one pattern element at p[i]. Returns the index after it, or 0 after an error item
// (which ends compilation: nothing after it can run).
static size_t compile_element(compiler *c, size_t i) {
    const unsigned char *p = c->p;
    size_t len = c->len;
    switch (p[i]) {
    case '(': {
        if (c->ncaptures >= AU_PATTERN_MAXCAPTURES) {
            emit_error(c, E_TOO_MANY_CAPTURES, 0);
            return 0;
        }
        int k = c->ncaptures++;
        if (i + 1 < len && p[i + 1] == ')') {
            c->position_captures |= 1u << k;
            emit(c, OP_POSITION)->arg = (uint32_t)k;
            return i + 2;
        }
        c->open_captures |= 1u << k;
        emit(c, OP_OPEN)->arg = (uint32_t)k;
        return i + 1;
    }
    case ')': {
        int k = c->ncaptures - 1;  // the latest capture still open
        while (k >= 0 && !(c->open_captures & (1u << k))) k--;
        if (k < 0) {
            emit_error(c, E_NOTHING_TO_CLOSE, 0);
            return 0;
        }
        c->open_captures &= ~(1u << k);
        emit(c, OP_CLOSE)->arg = (uint32_t)k;
        return i + 1;
    }
    case '$':
        if (i + 1 == len) {
            emit(c, OP_AT_END);
            return i + 1;
        }
        break;  // elsewhere "$" stands for itself
    case '%':
        if (i + 1 >= len) break;  // compile_class reports it
        if (p[i + 1] == 'b') {
            if (i + 3 >= len) {
                emit_error(c, E_BALANCE_ARGUMENTS, 0);
                return 0;
            }
            item *it = emit(c, OP_BALANCE);
            it->byte = p[i + 2];
            it->byte2 = p[i + 3];
            return i + 4;
        }
        if (p[i + 1] == 'f') {
            size_t set_index, next;
            if (i + 2 >= len || p[i + 2] != '[') {
                emit_error(c, E_FRONTIER_BRACKET, 0);
                return 0;
            }
            next = compile_set(c, i + 2, &set_index);
            if (next == 0) {
                emit_error(c, E_MISSING_BRACKET, 0);
                return 0;
            }
            emit(c, OP_FRONTIER)->arg = (uint32_t)set_index;
            return next;
        }
        if (p[i + 1] >= '0' && p[i + 1] <= '9') {
            int k = p[i + 1] - '1';  // "%0" gives -1: never valid
            if (k < 0 || k >= c->ncaptures || (c->open_captures & (1u << k))) {
                emit_error(c, E_CAPTURE_INDEX, (uint32_t)(k + 1));
                return 0;
            }
            emit(c, OP_BACKREF)->arg = (uint32_t)k;
            return i + 2;
        }
        break;
    }
    return compile_class(c, i);
}

static void compile_pass(compiler *c) {
    c->nitems = c->nsets = c->nchoices = 0;
    c->ncaptures = 0;
    c->open_captures = c->position_captures = 0;
    size_t i = 0;
    while (i < c->len) {
        i = compile_element(c, i);
        if (i == 0) return;
    }
    emit(c, OP_ACCEPT);
}

// The class every match must start with, if the pattern dictates one: then start positions
// whose byte is not in it need no attempt.
static const item *required_first_class(const program *g) {
    for (size_t k = 0; k < g->nitems; k++) {
        const item *it = &g->items[k];
        if (it->op == OP_OPEN || it->op == OP_POSITION) continue;  // they consume nothing
        if (it->op == OP_CLASS && it->cls != CL_ANY && (it->rep == REP_ONE || it->rep == REP_PLUS))
            return it;
        return NULL;
    }
    return NULL;
}

// Sizes the program for pattern p, so that its storage can be allocated.
static void size_program(compiler *c, const char *p, size_t len, program *g) {
    memset(g, 0, sizeof *g);
    c->p = (const unsigned char *)p;
    c->len = len;
    c->g = g;
    compile_pass(c);
    g->nitems = c->nitems;
    g->nsets = c->nsets;
    g->nchoices = c->nchoices;
}

static size_t program_storage_bytes(const program *g) {
    return g->nchoices * sizeof(choice) + g->nitems * sizeof(item) + g->nsets * sizeof(byteset);
}

// Fills the program sized by size_program into the given arrays.
static void fill_program(compiler *c, program *g, choice *choices, item *items, byteset *sets) {
    g->choices = choices;
    g->items = items;
    g->sets = sets;
    c->g = g;  // g may be a copy of the program that was sized
    compile_pass(c);
    g->nitems = c->nitems;  // unchanged, unless no sizing pass ran
    g->nsets = c->nsets;
    g->nchoices = c->nchoices;
    g->ncaptures = c->ncaptures;
    g->position_captures = c->position_captures;
    g->unfinished_captures = c->open_captures;
    g->first = required_first_class(g);
}

// Fills the program into one block of program_storage_bytes, aligned for a size_t.
static void fill_packed_program(compiler *c, program *g, void *storage) {
    char *at = storage;  // choices first: their size_t fields need the strictest alignment
    choice *choices = (choice *)(void *)at;
    at += g->nchoices * sizeof(choice);
    item *items = (item *)(void *)at;
    at += g->nitems * sizeof(item);
    fill_program(c, g, choices, items, (byteset *)(void *)at);
}

// Room for compiling small patterns without allocating.
typedef struct {
    choice choices[AU_PATTERN_LOCAL_ITEMS];
    item items[AU_PATTERN_LOCAL_ITEMS];
    byteset sets[AU_PATTERN_LOCAL_SETS];
} local_storage;

// Compiles pattern p into g. Always pushes one value, which keeps the program's storage alive
// while it is on the stack: a userdata, or nil when `local` was big enough.
static void compile(lua_State *L, const char *p, size_t len, program *g, local_storage *local) {
    compiler c;
    // Every element takes at least one byte of the pattern and every set at least three ("[x]"),
    // so a short pattern surely fits and needs no sizing pass.
    if (len + 1 <= AU_PATTERN_LOCAL_ITEMS && len / 3 <= AU_PATTERN_LOCAL_SETS) {
        memset(g, 0, sizeof *g);
        c.p = (const unsigned char *)p;
        c.len = len;
    } else {
        size_program(&c, p, len, g);
    }
    if (g->nitems <= AU_PATTERN_LOCAL_ITEMS && g->nsets <= AU_PATTERN_LOCAL_SETS) {
        lua_pushnil(L);
        fill_program(&c, g, local->choices, local->items, local->sets);
    } else {
        fill_packed_program(&c, g, lua_newuserdatauv(L, program_storage_bytes(g), 0));
    }
}

// MARK: - Matcher

typedef struct {
    lua_State *L;
    const unsigned char *src;
    size_t len;
    const program *g;
    size_t capture_start[AU_PATTERN_MAXCAPTURES];
    size_t capture_end[AU_PATTERN_MAXCAPTURES];
    uint64_t steps, budget, next_check;
} matcher;

static void matcher_init(matcher *m, lua_State *L, const char *src, size_t len, const program *g) {
    m->L = L;
    m->src = (const unsigned char *)src;
    m->len = len;
    m->g = g;
    m->steps = 0;
    m->budget = step_budget(len);
    m->next_check = AU_PATTERN_KILL_INTERVAL;
}

static void checkpoint(matcher *m) {
    au_context *ctx = au_ctx(m->L);
    if (ctx != NULL && atomic_load(&ctx->killed) == AU_KILL_SET)
        luaL_error(m->L, "%s", ctx->reason);
    if (m->steps > m->budget)
        luaL_error(m->L,
                   "pattern too complex: gave up after %I steps on a %I-byte subject "
                   "(simplify the pattern or shorten the input)",
                   (lua_Integer)m->steps, (lua_Integer)m->len);
    m->next_check = m->steps + AU_PATTERN_KILL_INTERVAL;
    if (m->next_check > m->budget + 1) m->next_check = m->budget + 1;
}

static inline void spend(matcher *m, uint64_t steps) {
    m->steps += steps;
    if (m->steps >= m->next_check) checkpoint(m);
}

static inline int class_has(const program *g, const item *it, unsigned char c) {
    switch (it->cls) {
    case CL_BYTE: return c == it->byte;
    case CL_ANY: return 1;
    case CL_ESCAPE: return escape_class(it->byte, c);
    default: return set_has(&g->sets[it->arg], c);
    }
}

static void raise_pattern_error(lua_State *L, const item *it) {
    switch (it->byte) {
    case E_ENDS_WITH_ESCAPE: luaL_error(L, "malformed pattern (ends with '%%')"); break;
    case E_MISSING_BRACKET: luaL_error(L, "malformed pattern (missing ']')"); break;
    case E_BALANCE_ARGUMENTS: luaL_error(L, "malformed pattern (missing arguments to '%%b')"); break;
    case E_FRONTIER_BRACKET: luaL_error(L, "missing '[' after '%%f' in pattern"); break;
    case E_CAPTURE_INDEX: luaL_error(L, "invalid capture index %%%d", (int)it->arg); break;
    case E_NOTHING_TO_CLOSE: luaL_error(L, "invalid pattern capture"); break;
    default: luaL_error(L, "too many captures"); break;
    }
}

// How many bytes from s on (at most max) belong to the class of `it`. A scan is charged after
// the fact: it is linear, so it cannot run away.
static size_t run_length(matcher *m, const item *it, size_t s, size_t max) {
    size_t n = 0;
    if (it->cls == CL_ANY)
        n = max;
    else
        while (n < max && class_has(m->g, it, m->src[s + n])) n++;
    spend(m, n + 1);
    return n;
}

// The end of a "%bxy" match starting at s, or NO_MATCH. A closer is recognised before an
// opener, so "%b''" pairs each quote with the next one.
static size_t balance_end(matcher *m, const item *it, size_t s) {
    if (s >= m->len || m->src[s] != it->byte) return NO_MATCH;
    size_t depth = 1, i;
    for (i = s + 1; i < m->len; i++) {
        if (m->src[i] == it->byte2) {
            if (--depth == 0) break;
        } else if (m->src[i] == it->byte) {
            depth++;
        }
    }
    spend(m, i - s);  // a linear scan, charged after the fact
    return i < m->len ? i + 1 : NO_MATCH;
}

// Matches the whole program against the subject from offset s. Returns the end of the match, or
// NO_MATCH; the captures are left in m.
static size_t match_at(matcher *m, size_t s) {
    const program *g = m->g;
    const unsigned char *src = m->src;
    size_t len = m->len;
    choice *stack = g->choices;
    size_t depth = 0, pc = 0;
    for (;;) {
        const item *it = &g->items[pc];
        spend(m, 1);
        switch (it->op) {
        case OP_ACCEPT:
            return s;
        case OP_CLASS:
            if (it->rep == REP_ONE) {
                if (s < len && class_has(g, it, src[s])) {
                    s++;
                    pc++;
                    continue;
                }
                goto backtrack;
            }
            if (it->rep == REP_LAZY) {
                // Shortest first: go on taking nothing; each backtrack takes one more byte.
                stack[depth++] = (choice){pc, s, 0};
                pc++;
                continue;
            } else {
                // Longest first: take all that match; each backtrack gives one back.
                size_t least = it->rep == REP_PLUS;
                size_t n = run_length(m, it, s, it->rep == REP_OPTIONAL ? (s < len) : len - s);
                if (n < least) goto backtrack;
                if (n > least) stack[depth++] = (choice){pc, s, n};
                s += n;
                pc++;
                continue;
            }
        case OP_OPEN:
        case OP_POSITION:
            m->capture_start[it->arg] = s;
            pc++;
            continue;
        case OP_CLOSE:
            m->capture_end[it->arg] = s;
            pc++;
            continue;
        case OP_BALANCE: {
            size_t e = balance_end(m, it, s);
            if (e == NO_MATCH) goto backtrack;
            s = e;
            pc++;
            continue;
        }
        case OP_FRONTIER: {
            // Outside the subject counts as "\0", so the start is "\0" before the first byte.
            const byteset *set = &g->sets[it->arg];
            unsigned char before = s > 0 ? src[s - 1] : 0, at = s < len ? src[s] : 0;
            if (set_has(set, before) || !set_has(set, at)) goto backtrack;
            pc++;
            continue;
        }
        case OP_BACKREF: {
            uint32_t k = it->arg;
            if (g->position_captures & (1u << k)) goto backtrack;  // a position has no text
            size_t n = m->capture_end[k] - m->capture_start[k];
            if (len - s < n) goto backtrack;
            spend(m, n);  // the comparison may read the whole capture
            if (memcmp(src + m->capture_start[k], src + s, n) != 0) goto backtrack;
            s += n;
            pc++;
            continue;
        }
        case OP_AT_END:
            if (s != len) goto backtrack;
            pc++;
            continue;
        default:  // OP_ERROR
            raise_pattern_error(m->L, it);
            return NO_MATCH;
        }
    backtrack:
        for (;;) {
            if (depth == 0) return NO_MATCH;
            choice *ch = &stack[depth - 1];
            const item *q = &g->items[ch->item];
            spend(m, 1);
            if (q->rep == REP_LAZY) {
                size_t at = ch->base + ch->count;
                if (at < len && class_has(g, q, src[at])) {
                    ch->count++;
                    s = at + 1;
                    pc = ch->item + 1;
                    break;
                }
                depth--;
                continue;
            }
            ch->count--;
            s = ch->base + ch->count;
            pc = ch->item + 1;
            if (ch->count == (q->rep == REP_PLUS ? 1u : 0u)) depth--;  // no alternative left
            break;
        }
    }
}

// The first match starting at or after `from` whose end is not `reject_end` (gsub and gmatch do
// not accept an empty match where the previous match ended). Returns its end and sets *start, or
// returns NO_MATCH. An anchored search tries `from` only.
static size_t search(matcher *m, size_t from, int anchored, size_t reject_end, size_t *start) {
    const item *first = anchored ? NULL : m->g->first;
    for (size_t s = from; s <= m->len; s++) {
        if (first != NULL) {  // skipping is linear work, like a scan: not charged
            if (first->cls == CL_BYTE) {
                const unsigned char *hit =
                    s < m->len ? memchr(m->src + s, first->byte, m->len - s) : NULL;
                s = hit != NULL ? (size_t)(hit - m->src) : m->len;
            } else {
                while (s < m->len && !class_has(m->g, first, m->src[s])) s++;
            }
            if (s == m->len) return NO_MATCH;  // the class needs a byte
        }
        size_t e = match_at(m, s);
        if (e != NO_MATCH && e != reject_end) {
            *start = s;
            return e;
        }
        if (anchored) break;
    }
    return NO_MATCH;
}

// MARK: - Captures

// Capture k of the match [s, e) (with no captures, capture 0 is the whole match): returns 1 and
// its text in *from, *length, or 0 for a position capture, whose position is *from.
static int capture_text(const matcher *m, int k, size_t s, size_t e, size_t *from, size_t *length) {
    const program *g = m->g;
    if (k >= g->ncaptures) {
        if (k != 0) luaL_error(m->L, "invalid capture index %%%d", k + 1);
        *from = s;
        *length = e - s;
        return 1;
    }
    *from = m->capture_start[k];
    if (g->position_captures & (1u << k)) return 0;
    if (g->unfinished_captures & (1u << k)) luaL_error(m->L, "unfinished capture");
    *length = m->capture_end[k] - *from;
    return 1;
}

// Pushes capture k of the match [s, e): a string, or the 1-based position of a position capture.
static void push_capture(const matcher *m, int k, size_t s, size_t e) {
    size_t from, length;
    if (capture_text(m, k, s, e, &from, &length))
        lua_pushlstring(m->L, (const char *)m->src + from, length);
    else
        lua_pushinteger(m->L, (lua_Integer)from + 1);
}

// Pushes all captures; with none, the whole match when `whole` is set. Returns how many.
static int push_captures(const matcher *m, size_t s, size_t e, int whole) {
    int n = (m->g->ncaptures == 0 && whole) ? 1 : m->g->ncaptures;
    luaL_checkstack(m->L, n, "too many captures");
    for (int k = 0; k < n; k++) push_capture(m, k, s, e);
    return n;
}

// MARK: - Library functions

// The 0-based offset for a 1-based init argument that may count from the end (manual §6.4).
// The result may lie past the end of the subject; callers decide what that means.
static size_t start_offset(lua_Integer init, size_t len) {
    if (init > 0) return (size_t)init - 1;
    if (init == 0 || init < -(lua_Integer)len) return 0;
    return (size_t)((lua_Integer)len + init);
}

// Whether the pattern has no magic bytes at all, in which case find searches it as plain text
// (like stock Lua, which is why find("a)", "a)") succeeds where match raises an error).
static int is_plain(const char *p, size_t len) {
    static const char magic[] = "^$*+?.([%-";
    for (size_t i = 0; i < len; i++)
        if (memchr(magic, p[i], sizeof magic - 1) != NULL) return 0;
    return 1;
}

static int find_or_match(lua_State *L, int find) {
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_offset(luaL_optinteger(L, 3, 1), ls);
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || is_plain(p, lp))) {
        // glibc's memmem is linear-time (two-way), so plain search needs no step budget.
        const char *hit = memmem(s + init, ls - init, p, lp);
        if (hit == NULL) {
            luaL_pushfail(L);
            return 1;
        }
        lua_pushinteger(L, (lua_Integer)(hit - s) + 1);
        lua_pushinteger(L, (lua_Integer)(hit - s) + (lua_Integer)lp);
        return 2;
    }
    size_t anchored = lp > 0 && p[0] == '^';
    program g;
    local_storage local;
    compile(L, p + anchored, lp - anchored, &g, &local);
    matcher m;
    matcher_init(&m, L, s, ls, &g);
    size_t start = 0, end = search(&m, init, anchored != 0, NO_MATCH, &start);
    if (end == NO_MATCH) {
        luaL_pushfail(L);
        return 1;
    }
    if (!find) return push_captures(&m, start, end, 1);
    lua_pushinteger(L, (lua_Integer)start + 1);
    lua_pushinteger(L, (lua_Integer)end);
    return 2 + push_captures(&m, start, end, 0);
}

static int pattern_find(lua_State *L) { return find_or_match(L, 1); }
static int pattern_match(lua_State *L) { return find_or_match(L, 0); }

// gmatch: the compiled program and the iteration state live in one userdata.
typedef struct {
    program g;
    size_t next;  // where the next search starts
    size_t last;  // end of the previous match, or NO_MATCH
} gmatch_state;

static int gmatch_step(lua_State *L) {
    size_t ls;
    const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
    gmatch_state *st = lua_touserdata(L, lua_upvalueindex(2));
    matcher m;
    matcher_init(&m, L, s, ls, &st->g);
    size_t start = 0, end = st->next > ls ? NO_MATCH : search(&m, st->next, 0, st->last, &start);
    if (end == NO_MATCH) {
        st->next = ls + 1;
        return 0;
    }
    st->next = st->last = end;
    return push_captures(&m, start, end, 1);
}

static int pattern_gmatch(lua_State *L) {
    size_t ls, lp;
    luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_offset(luaL_optinteger(L, 3, 1), ls);
    // No anchor here: a "^" would stop the iteration, so it stands for itself (manual §6.4).
    compiler c;
    program g;
    size_program(&c, p, lp, &g);
    // The program's storage follows the state; sizeof(gmatch_state) is a multiple of its
    // alignment, which covers the size_t fields of the choices stored first.
    gmatch_state *st = lua_newuserdatauv(L, sizeof *st + program_storage_bytes(&g), 0);
    st->g = g;
    fill_packed_program(&c, &st->g, st + 1);
    st->next = init > ls ? ls + 1 : init;
    st->last = NO_MATCH;
    lua_pushvalue(L, 1);  // the subject, converted to a string by luaL_checklstring
    lua_insert(L, -2);
    lua_pushcclosure(L, gmatch_step, 2);
    return 1;
}

// Appends the replacement string (argument 3) for the match [s, e), expanding %0-%9 and %%.
static void add_template(const matcher *m, luaL_Buffer *b, size_t s, size_t e) {
    lua_State *L = m->L;
    size_t lr;
    const char *r = lua_tolstring(L, 3, &lr);
    const char *end = r + lr;
    while (r < end) {
        const char *esc = memchr(r, '%', (size_t)(end - r));
        if (esc == NULL) {
            luaL_addlstring(b, r, (size_t)(end - r));
            return;
        }
        luaL_addlstring(b, r, (size_t)(esc - r));
        r = esc + 1;
        if (r < end && *r == '%') {
            luaL_addchar(b, '%');
        } else if (r < end && *r >= '0' && *r <= '9') {
            size_t from = s, length = e - s;  // "%0": the whole match
            if (*r == '0' || capture_text(m, *r - '1', s, e, &from, &length)) {
                luaL_addlstring(b, (const char *)m->src + from, length);
            } else {  // a position capture: its number as text
                lua_pushinteger(L, (lua_Integer)from + 1);
                luaL_addvalue(b);
            }
        } else {
            luaL_error(L, "invalid use of '%c' in replacement string", '%');
        }
        r++;
    }
}

// Appends the replacement for the match [s, e) given by argument 3 of type `kind`.
static void add_replacement(const matcher *m, luaL_Buffer *b, size_t s, size_t e, int kind) {
    lua_State *L = m->L;
    if (kind == LUA_TSTRING || kind == LUA_TNUMBER) {
        add_template(m, b, s, e);
        return;
    }
    if (kind == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = push_captures(m, s, e, 1);
        lua_call(L, n, 1);
    } else {
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
    }
    if (!lua_toboolean(L, -1)) {  // nil or false: keep the original text
        lua_pop(L, 1);
        luaL_addlstring(b, (const char *)m->src + s, e - s);
    } else if (!lua_isstring(L, -1)) {
        luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    } else {
        luaL_addvalue(b);
    }
}

static int pattern_gsub(lua_State *L) {
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int kind = lua_type(L, 3);
    lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    luaL_argexpected(L, kind == LUA_TNUMBER || kind == LUA_TSTRING || kind == LUA_TFUNCTION ||
                            kind == LUA_TTABLE,
                     3, "string/function/table");
    size_t anchored = lp > 0 && p[0] == '^';
    program g;
    local_storage local;
    compile(L, p + anchored, lp - anchored, &g, &local);  // before the buffer claims the stack
    matcher m;
    matcher_init(&m, L, s, ls, &g);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t pos = 0, last = NO_MATCH;
    lua_Integer n = 0;
    while (n < max) {
        size_t start = 0, end = search(&m, pos, anchored != 0, last, &start);
        if (end == NO_MATCH) break;
        n++;
        luaL_addlstring(&b, s + pos, start - pos);
        add_replacement(&m, &b, start, end, kind);
        pos = last = end;
        if (anchored) break;
    }
    luaL_addlstring(&b, s + pos, ls - pos);
    luaL_pushresult(&b);
    lua_pushinteger(L, n);
    return 2;
}

void au_open_patterns(lua_State *L, int string_table) {
    static const luaL_Reg functions[] = {
        {"find", pattern_find},
        {"match", pattern_match},
        {"gmatch", pattern_gmatch},
        {"gsub", pattern_gsub},
        {NULL, NULL},
    };
    string_table = lua_absindex(L, string_table);
    for (const luaL_Reg *f = functions; f->name != NULL; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, string_table, f->name);
    }
}
