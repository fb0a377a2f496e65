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
// it is first compiled into an array of items: a run of plain bytes becomes one literal item,
// and every class ("%a", "[set]", ".", a quantified byte) a 256-bit map, so that testing a byte
// is one bit test. Matching walks that array with an explicit stack of choice points instead of
// recursing: a quantified item that still has alternatives leaves one entry, which is revisited
// on failure. Because a path through a flat sequence executes each item at most once, the
// stack never holds more entries than the pattern has quantified items, and the C stack depth
// does not depend on the pattern or the subject at all. For the same reason captures need no
// undo log: an item can only read captures written by earlier items, and those are either
// untouched since the choice point or rewritten by the retried path before they are read.
//
// With no recursion there is no depth limit either: where stock Lua gives up with "pattern too
// complex" after 200 nested repetitions or captures, these functions just answer.
//
// Stock Lua reports a malformed pattern only when the matcher reaches the bad spot (so
// ("abc"):find("z[") is simply nil); compilation therefore turns a malformed spot into an error
// item that raises the stock message when executed.
//
// Compiled patterns are cached per Lua state (see "Cache"), so a pattern used in a loop is
// compiled once: the same pattern literal is the same interned string every time.
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
//
// A step is one item tried or one backtrack; scans (a repetition taking its bytes, "%b", a
// back-reference, a literal run) are charged one step per byte they read, after the fact: they
// are linear, so they cannot run away between two checks.
#define AU_PATTERN_BASE_STEPS 10000000u
#define AU_PATTERN_STEPS_PER_BYTE 256u
static uint64_t step_budget(size_t subject_length) {
    return AU_PATTERN_BASE_STEPS + AU_PATTERN_STEPS_PER_BYTE * (uint64_t)subject_length;
}

// How often (in steps) the kill switch is read, so that a killed run stops inside a match.
#define AU_PATTERN_KILL_INTERVAL 4096u

// Captures per pattern, as in stock Lua (LUA_MAXCAPTURES); the capture bit masks need <= 32.
#define AU_PATTERN_MAXCAPTURES 32

// Patterns up to this length (after a leading "^") are compiled onto the C stack when they are
// not cached: every element takes at least one byte, so they have at most this many items
// besides the final one, and at most this many classes.
#define AU_PATTERN_LOCAL_LENGTH 48

// Choice points kept on the C stack; a pattern with more quantified items allocates its stack.
#define AU_PATTERN_LOCAL_CHOICES 32

#define NO_MATCH SIZE_MAX

// MARK: - Compiled patterns

enum {
    OP_LITERAL,   // a run of `len` plain bytes, at literals + arg
    OP_CLASS,     // one byte of the class sets[arg], possibly repeated (see rep)
    OP_OPEN,      // "(": the capture `arg` starts
    OP_CLOSE,     // ")": the capture `arg` ends
    OP_POSITION,  // "()": the capture `arg` is the current position
    OP_BALANCE,   // "%bxy": opener in `byte`, closer in `byte2`
    OP_FRONTIER,  // "%f[set]": the set is sets[arg]
    OP_BACKREF,   // "%1".."%9": capture `arg`
    OP_AT_END,    // "$" as the last byte of the pattern
    OP_ERROR,     // a malformed spot: raises `byte` (an E_* code) when reached
    OP_ACCEPT,    // the end of the pattern: the match succeeded
};

enum { REP_ONE, REP_OPTIONAL, REP_STAR, REP_PLUS, REP_LAZY };  // none, ?, *, +, -

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
    uint8_t any;    // OP_CLASS: the class is "." (every byte), so a repetition needs no scan
    uint8_t byte;   // OP_BALANCE: the opener; OP_ERROR: the E_* code
    uint8_t byte2;  // OP_BALANCE: the closer
    uint32_t arg;   // see the ops
    uint32_t len;   // OP_LITERAL: the length of the run
} item;

typedef struct {
    uint8_t bits[32];
} byteset;

static inline int set_has(const byteset *set, unsigned char c) {
    return (set->bits[c >> 3] >> (c & 7)) & 1;
}

static inline void set_add(byteset *set, unsigned char c) {
    set->bits[c >> 3] |= (uint8_t)(1u << (c & 7));
}

static void set_union(byteset *set, const byteset *other, int complement) {
    for (int i = 0; i < 32; i++) set->bits[i] |= complement ? (uint8_t)~other->bits[i] : other->bits[i];
}

// How a search can skip start positions that cannot begin a match.
enum { FIRST_NONE, FIRST_BYTE, FIRST_SET };

// A compiled pattern. It is never written after compilation, so one copy may serve any number
// of calls, nested ones included. Its arrays follow it in the same block (or lie on the C stack).
typedef struct {
    const item *items;
    const byteset *sets;
    const unsigned char *literals;
    uint32_t nitems, nsets, nliterals, nchoices;  // nchoices: how many items are quantified
    int ncaptures;
    uint32_t position_captures;    // bit i: capture i is a position capture
    uint32_t unfinished_captures;  // bit i: capture i is still open at the end of the pattern
    uint8_t anchored;              // the pattern began with "^" (not for gmatch)
    uint8_t first_kind;            // FIRST_*: what every match must start with
    uint8_t first_byte;            // FIRST_BYTE: that byte
    uint32_t first_set;            // FIRST_SET: the set of bytes it may start with
} program;

// MARK: - Character classes

// The class letters, lower case; "%z" is no longer documented but stock Lua still accepts it.
static int class_slot(unsigned char letter) {
    switch (letter >= 'A' && letter <= 'Z' ? letter + ('a' - 'A') : letter) {
    case 'a': return 0;
    case 'c': return 1;
    case 'd': return 2;
    case 'g': return 3;
    case 'l': return 4;
    case 'p': return 5;
    case 's': return 6;
    case 'u': return 7;
    case 'w': return 8;
    case 'x': return 9;
    case 'z': return 10;
    default: return -1;
    }
}
#define AU_PATTERN_CLASSES 11

// Whether byte c belongs to the lower-case class `slot`, by <ctype.h> like stock Lua (so the
// classes follow the locale).
static int class_member(int slot, int c) {
    switch (slot) {
    case 0: return isalpha(c) != 0;
    case 1: return iscntrl(c) != 0;
    case 2: return isdigit(c) != 0;
    case 3: return isgraph(c) != 0;
    case 4: return islower(c) != 0;
    case 5: return ispunct(c) != 0;
    case 6: return isspace(c) != 0;
    case 7: return isupper(c) != 0;
    case 8: return isalnum(c) != 0;
    case 9: return isxdigit(c) != 0;
    default: return c == 0;
    }
}

// MARK: - Cache

// Compiled patterns live in userdata, each found from the cache by the pattern string that
// produced it. The cache is a set-associative table of AU_PATTERN_CACHE_SETS x 2 slots, in one
// userdata kept in the registry (and as an upvalue of the four functions, which is faster to
// reach); its user value i + 1 holds the program of slot i, so the cache keeps it alive, and
// the program's own user value holds its pattern string, so a slot's key bytes stay valid and
// the string cannot be collected and its address reused while the slot names it.
//
// A slot matches a pattern of the same length and bytes: the pointers are compared first, which
// settles it for short strings (Lua interns them, so the same pattern is the same string), and
// the bytes otherwise. Short strings are hashed by address, long ones by content; if short
// strings were not interned a pattern would just miss more often.
//
// A call pushes the program it uses onto the Lua stack, so evicting it meanwhile (a gsub
// replacement function or a finalizer may run other patterns) cannot free it.
//
// Admission: a miss compiles a short pattern onto the C stack, as if there were no cache, and
// only remembers its hash; the pattern gets a slot when it misses again while remembered. Then
// patterns built anew on every call (string concatenation) cost no allocation, and cannot push
// the patterns used in loops out of the cache.
#define AU_PATTERN_CACHE_SETS 64
#define AU_PATTERN_CACHE_WAYS 2
#define AU_PATTERN_CACHE_SLOTS (AU_PATTERN_CACHE_SETS * AU_PATTERN_CACHE_WAYS)
// Longer patterns are compiled for each call, which also bounds the cache's memory.
#define AU_PATTERN_CACHE_MAX_LENGTH 256
// Strings up to this length are interned by Lua 5.4 (LUAI_MAXSHORTLEN).
#define AU_PATTERN_SHORT_STRING 40

typedef struct {
    const char *key;  // the pattern's bytes (in the string anchored by the program), or NULL
    size_t length;
    const program *g;
    uint8_t mode;  // see key_mode
} cache_slot;

typedef struct {
    cache_slot slots[AU_PATTERN_CACHE_SLOTS];
    uint32_t admit[AU_PATTERN_CACHE_SETS];  // hash of the last pattern that missed in each set
    uint8_t recent[AU_PATTERN_CACHE_SETS];  // the way of each set used last
    uintptr_t locale;                       // the <ctype.h> table seen last (locale_table)
    uint64_t locale_digest;                 // the contents of the table the classes came from
    uint32_t classes_built;                 // bit i: classes[i] is filled
    byteset classes[AU_PATTERN_CLASSES];
} pattern_cache;

// A registry key: the address is what counts.
static const char cache_registry_key = 0;

// What the classes are evaluated from: with glibc, the current thread's ctype table, which
// setlocale and uselocale replace (a pointer compare per call); elsewhere the locale is taken
// as fixed for the state. When the pointer changes, the table's contents decide whether the
// compiled classes still hold: threads that set up their locale apart may point to distinct
// copies of the same table, and a state may run on any of them.
static uintptr_t locale_table(void) {
#ifdef __GLIBC__
    return (uintptr_t)*__ctype_b_loc();
#else
    return 0;
#endif
}

static uint64_t locale_digest(void) {
    uint64_t h = 0xcbf29ce484222325ull;
#ifdef __GLIBC__
    const unsigned short *table = *__ctype_b_loc();  // indexed by -128..255
    for (int c = 0; c < 256; c++) h = (h ^ table[c]) * 0x100000001b3ull;
#endif
    return h;
}

static const byteset *class_bits(pattern_cache *cache, int slot) {
    byteset *set = &cache->classes[slot];
    if (!(cache->classes_built & (1u << slot))) {
        memset(set, 0, sizeof *set);
        for (int c = 0; c < 256; c++)
            if (class_member(slot, c)) set_add(set, (unsigned char)c);
        cache->classes_built |= 1u << slot;
    }
    return set;
}

// MARK: - Compiler

// Compilation runs in one pass when the storage is known to be large enough, else twice: first
// with no storage (counting only), then to fill storage of the counted size.
typedef struct {
    const unsigned char *p;
    size_t len;
    pattern_cache *cache;
    item *items;  // NULL in the sizing pass
    byteset *sets;
    unsigned char *literals;
    uint32_t nitems, nsets, nliterals, nchoices;
    item scratch_item;   // written to in the sizing pass
    int literal_open;    // the last item is a literal run that the next plain byte extends
    int16_t class_set[2 * AU_PATTERN_CLASSES + 1];  // set of "%x", "%X", "." already made, or -1
    // Capture bookkeeping is static: the items run in order, so at any item every earlier item
    // has run, and which capture a ")" closes is known from the text alone.
    int ncaptures;
    uint32_t open_captures;
    uint32_t position_captures;
} compiler;

static item *emit(compiler *c, uint8_t op) {
    item *it = c->items ? &c->items[c->nitems] : &c->scratch_item;
    c->nitems++;
    memset(it, 0, sizeof *it);
    it->op = op;
    c->literal_open = 0;
    return it;
}

static void emit_error(compiler *c, uint8_t code, uint32_t detail) {
    item *it = emit(c, OP_ERROR);
    it->byte = code;
    it->arg = detail;
}

// Appends a plain byte to the current literal run, or starts one.
static void emit_literal(compiler *c, unsigned char byte) {
    if (c->items) c->literals[c->nliterals] = byte;
    if (c->literal_open) {
        if (c->items) c->items[c->nitems - 1].len++;
    } else {
        item *it = emit(c, OP_LITERAL);
        it->arg = c->nliterals;
        it->len = 1;
        c->literal_open = 1;
    }
    c->nliterals++;
}

// A new empty set; returns its index. In the sizing pass *set is NULL.
static uint32_t new_set(compiler *c, byteset **set) {
    uint32_t index = c->nsets++;
    *set = c->items ? &c->sets[index] : NULL;
    if (*set) memset(*set, 0, sizeof **set);
    return index;
}

// The set of "%letter" (slot >= 0) or "." (slot < 0), made once per pattern.
static uint32_t class_set(compiler *c, int slot, int upper) {
    int key = slot < 0 ? 2 * AU_PATTERN_CLASSES : 2 * slot + upper;
    if (c->class_set[key] >= 0) return (uint32_t)c->class_set[key];
    byteset *set;
    uint32_t index = new_set(c, &set);
    if (set && slot < 0) memset(set->bits, 0xff, sizeof set->bits);
    if (set && slot >= 0) set_union(set, class_bits(c->cache, slot), upper);
    c->class_set[key] = (int16_t)index;
    return index;
}

// Adds "%x" to a set: a class letter, or else the byte x itself.
static void set_add_escape(compiler *c, byteset *set, unsigned char letter) {
    int slot = class_slot(letter);
    if (slot < 0)
        set_add(set, letter);
    else
        set_union(set, class_bits(c->cache, slot), letter >= 'A' && letter <= 'Z');
}

// Compiles the "[...]" starting at p[i]. Returns the index after its "]", or 0 when there is
// none. The first byte after "[" or "[^" belongs to the set even if it is "]", and "%" protects
// the byte after it.
static size_t compile_set(compiler *c, size_t i, uint32_t *set_index) {
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

    byteset *set;
    *set_index = new_set(c, &set);
    if (set == NULL) return close + 1;  // sizing pass
    for (size_t k = body; k < close;) {
        unsigned char x = p[k];
        if (x == '%') {
            // Stock Lua reads the escaped byte even when it is the closing "]" (after a range
            // like "a-%" the "%" of "%%]" escapes the "]"): p[close] exists, so this is safe.
            set_add_escape(c, set, p[k + 1]);
            k += 2;
        } else if (k + 2 < close && p[k + 1] == '-') {
            for (int v = x; v <= p[k + 2]; v++) set_add(set, (unsigned char)v);
            k += 3;
        } else {
            set_add(set, x);
            k++;
        }
    }
    if (negate)
        for (int b = 0; b < 32; b++) set->bits[b] = (uint8_t)~set->bits[b];
    return close + 1;
}

// Compiles the single-byte class at p[i] and its quantifier. Returns the index after them, or 0
// after emitting an error item.
static size_t compile_class(compiler *c, size_t i) {
    const unsigned char *p = c->p;
    size_t len = c->len, next;
    int any = 0, plain = 0;  // plain: a byte that stands for itself
    unsigned char byte = 0;
    uint32_t set_index = 0;
    switch (p[i]) {
    case '%':
        if (i + 1 >= len) {
            emit_error(c, E_ENDS_WITH_ESCAPE, 0);
            return 0;
        }
        byte = p[i + 1];
        plain = class_slot(byte) < 0;
        next = i + 2;
        break;
    case '[':
        next = compile_set(c, i, &set_index);
        if (next == 0) {
            emit_error(c, E_MISSING_BRACKET, 0);
            return 0;
        }
        break;
    case '.':
        any = 1;
        next = i + 1;
        break;
    default:
        plain = 1;
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
    if (plain && rep == REP_ONE) {
        emit_literal(c, byte);
        return next;
    }
    if (plain) {  // a repeated byte: a set of one
        byteset *set;
        set_index = new_set(c, &set);
        if (set) set_add(set, byte);
    } else if (any) {
        set_index = class_set(c, -1, 0);
    } else if (p[i] == '%') {
        set_index = class_set(c, class_slot(byte), byte >= 'A' && byte <= 'Z');
    }
    item *it = emit(c, OP_CLASS);
    it->arg = set_index;
    it->rep = rep;
    it->any = (uint8_t)any;
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
            uint32_t set_index;
            size_t next;
            if (i + 2 >= len || p[i + 2] != '[') {
                emit_error(c, E_FRONTIER_BRACKET, 0);
                return 0;
            }
            next = compile_set(c, i + 2, &set_index);
            if (next == 0) {
                emit_error(c, E_MISSING_BRACKET, 0);
                return 0;
            }
            emit(c, OP_FRONTIER)->arg = set_index;
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
    c->nitems = c->nsets = c->nliterals = c->nchoices = 0;
    c->literal_open = 0;
    for (size_t k = 0; k < sizeof c->class_set / sizeof *c->class_set; k++) c->class_set[k] = -1;
    c->ncaptures = 0;
    c->open_captures = c->position_captures = 0;
    size_t i = 0;
    while (i < c->len) {
        i = compile_element(c, i);
        if (i == 0) return;
    }
    emit(c, OP_ACCEPT);
}

// What every match must start with, if the pattern dictates it: then start positions whose
// byte cannot begin a match need no attempt.
static void find_first(program *g) {
    g->first_kind = FIRST_NONE;
    for (uint32_t k = 0; k < g->nitems; k++) {
        const item *it = &g->items[k];
        if (it->op == OP_OPEN || it->op == OP_POSITION) continue;  // they consume nothing
        if (it->op == OP_LITERAL) {
            g->first_kind = FIRST_BYTE;
            g->first_byte = g->literals[it->arg];
        } else if (it->op == OP_CLASS && !it->any && (it->rep == REP_ONE || it->rep == REP_PLUS)) {
            g->first_kind = FIRST_SET;
            g->first_set = it->arg;
        }
        return;
    }
}

static void compiler_init(compiler *c, pattern_cache *cache, const char *p, size_t len) {
    memset(c, 0, sizeof *c);
    c->p = (const unsigned char *)p;
    c->len = len;
    c->cache = cache;
}

// Fills g from a finished compilation pass over storage that the program may keep.
static void finish_program(compiler *c, program *g, int anchored) {
    memset(g, 0, sizeof *g);
    g->items = c->items;
    g->sets = c->sets;
    g->literals = c->literals;
    g->nitems = c->nitems;
    g->nsets = c->nsets;
    g->nliterals = c->nliterals;
    g->nchoices = c->nchoices;
    g->ncaptures = c->ncaptures;
    g->position_captures = c->position_captures;
    g->unfinished_captures = c->open_captures;
    g->anchored = (uint8_t)anchored;
    find_first(g);
}

// Room for compiling a short pattern without allocating.
typedef struct {
    program g;
    item items[AU_PATTERN_LOCAL_LENGTH + 1];
    byteset sets[AU_PATTERN_LOCAL_LENGTH];
    unsigned char literals[AU_PATTERN_LOCAL_LENGTH];
} local_program;

static size_t packed_size(uint32_t nitems, uint32_t nsets, uint32_t nliterals) {
    // the program first, then the items (4-byte fields), then byte arrays
    return sizeof(program) + nitems * sizeof(item) + nsets * sizeof(byteset) + nliterals;
}

// Pushes a new userdata holding the program counted or filled by c (one user value, for the
// pattern string when the program is cached). If c has no storage (a sizing pass), compiles
// again into the userdata; else copies c's arrays.
static program *push_packed_program(lua_State *L, compiler *c, int anchored) {
    uint32_t nitems = c->nitems, nsets = c->nsets, nliterals = c->nliterals;
    int copy = c->items != NULL;
    item *from_items = c->items;
    byteset *from_sets = c->sets;
    unsigned char *from_literals = c->literals;
    program *g = lua_newuserdatauv(L, packed_size(nitems, nsets, nliterals), 1);
    char *at = (char *)(g + 1);
    c->items = (item *)(void *)at;
    at += nitems * sizeof(item);
    c->sets = (byteset *)(void *)at;
    at += nsets * sizeof(byteset);
    c->literals = (unsigned char *)at;
    if (copy) {
        memcpy(c->items, from_items, nitems * sizeof(item));
        memcpy(c->sets, from_sets, nsets * sizeof(byteset));
        memcpy(c->literals, from_literals, nliterals);
    } else {
        compile_pass(c);
    }
    finish_program(c, g, anchored);
    return g;
}

// Which compilation of a pattern a caller needs: find, match and gsub take a leading "^" as an
// anchor, gmatch as a plain byte. Both compile every other pattern alike.
enum { MODE_ANCHORS, MODE_GMATCH };
static int key_mode(const char *p, size_t len, int mode) {
    return len > 0 && p[0] == '^' ? mode : MODE_ANCHORS;
}

static uint32_t key_hash(const char *p, size_t len, int mode) {
    uint64_t h;
    if (len <= AU_PATTERN_SHORT_STRING) {
        h = (uintptr_t)p;
    } else {  // FNV-1a over the first and last 16 bytes
        h = 0xcbf29ce484222325ull ^ len;
        for (size_t i = 0; i < 16; i++) {
            h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
            h = (h ^ (unsigned char)p[len - 1 - i]) * 0x100000001b3ull;
        }
    }
    h = (h ^ (uint64_t)mode) * UINT64_C(0x9E3779B97F4A7C15);
    return (uint32_t)(h >> 32);
}

// The ctype table has changed: if its contents have too, forgets every program (their
// classes no longer hold).
static void locale_changed(lua_State *L, int cache_index, pattern_cache *cache, uintptr_t locale) {
    cache->locale = locale;
    uint64_t digest = locale_digest();
    if (digest == cache->locale_digest) return;
    cache->locale_digest = digest;
    for (int i = 0; i < AU_PATTERN_CACHE_SLOTS; i++) {
        cache->slots[i].key = NULL;
        cache->slots[i].g = NULL;
        lua_pushnil(L);
        lua_setiuservalue(L, cache_index, i + 1);
    }
    memset(cache->admit, 0, sizeof cache->admit);
    cache->classes_built = 0;
}

// The compiled program for pattern argument `arg` (p, len: its text) in `mode`. Always pushes
// one value, which keeps the program alive while it is on the stack: its userdata, or nil when
// it was compiled into `local`. With `persistent` the program is always a userdata (gmatch's
// iterator outlives the call). The cache is the calling function's first upvalue.
static const program *get_program(lua_State *L, int arg, const char *p, size_t len, int mode,
                                  local_program *local, int persistent) {
    const int cache_index = lua_upvalueindex(1);
    pattern_cache *cache = lua_touserdata(L, cache_index);
    uintptr_t locale = locale_table();
    if (cache->locale != locale) locale_changed(L, cache_index, cache, locale);
    int kmode = key_mode(p, len, mode);
    int anchored = kmode == MODE_ANCHORS && len > 0 && p[0] == '^';
    const char *body = p + anchored;
    size_t body_len = len - (size_t)anchored;

    int cacheable = len <= AU_PATTERN_CACHE_MAX_LENGTH;
    uint32_t hash = 0;
    cache_slot *victim = NULL;
    if (cacheable) {
        hash = key_hash(p, len, kmode);
        unsigned set = hash & (AU_PATTERN_CACHE_SETS - 1);
        cache_slot *ways = &cache->slots[set * AU_PATTERN_CACHE_WAYS];
        for (int w = 0; w < AU_PATTERN_CACHE_WAYS; w++) {
            cache_slot *slot = &ways[w];
            if (slot->g != NULL && slot->length == len && slot->mode == kmode &&
                (slot->key == p || memcmp(slot->key, p, len) == 0)) {
                cache->recent[set] = (uint8_t)w;
                lua_getiuservalue(L, cache_index, (int)(slot - cache->slots) + 1);
                return slot->g;
            }
        }
        // A miss. Replace an empty way, else the one not used last.
        int w = ways[0].g == NULL ? 0 : ways[1].g == NULL ? 1 : !cache->recent[set];
        victim = &ways[w];
        if (!persistent && body_len <= AU_PATTERN_LOCAL_LENGTH && cache->admit[set] != hash) {
            cache->admit[set] = hash;  // not cached this time: see "Admission"
            victim = NULL;
        } else {
            cache->recent[set] = (uint8_t)w;
        }
    }

    compiler c;
    compiler_init(&c, cache, body, body_len);
    program *g;
    if (body_len <= AU_PATTERN_LOCAL_LENGTH) {  // surely fits: one pass
        c.items = local->items;
        c.sets = local->sets;
        c.literals = local->literals;
        compile_pass(&c);
        if (victim == NULL && !persistent) {
            lua_pushnil(L);
            finish_program(&c, &local->g, anchored);
            return &local->g;
        }
    } else {
        compile_pass(&c);  // sizing pass
    }
    g = push_packed_program(L, &c, anchored);
    if (victim != NULL) {
        lua_pushvalue(L, arg);  // the pattern string, which the slot's key points into
        lua_setiuservalue(L, -2, 1);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, cache_index, (int)(victim - cache->slots) + 1);
        victim->key = lua_tostring(L, arg);
        victim->length = len;
        victim->g = g;
        victim->mode = (uint8_t)kmode;
    }
    return g;
}

// MARK: - Matcher

typedef struct {
    uint32_t item;  // the quantified item that left this choice
    size_t base;    // where the repetition started
    size_t count;   // bytes it takes on the path being tried
} choice;

typedef struct {
    lua_State *L;
    const unsigned char *src;
    size_t len;
    const program *g;
    choice *choices;  // the backtracking stack: room for g->nchoices entries
    uint64_t steps, budget, next_check;
    size_t capture_start[AU_PATTERN_MAXCAPTURES];
    size_t capture_end[AU_PATTERN_MAXCAPTURES];
} matcher;

static void matcher_init(matcher *m, lua_State *L, const char *src, size_t len, const program *g,
                         choice *choices) {
    m->L = L;
    m->src = (const unsigned char *)src;
    m->len = len;
    m->g = g;
    m->choices = choices;
    m->steps = 0;
    m->budget = step_budget(len);
    m->next_check = AU_PATTERN_KILL_INTERVAL;
}

// A choice stack for g: `local` when it is big enough, else a new userdata (pushed; the caller
// leaves it on the stack). Pushes nothing in the first case.
static choice *choice_stack(lua_State *L, const program *g, choice *local) {
    if (g->nchoices <= AU_PATTERN_LOCAL_CHOICES) return local;
    return lua_newuserdatauv(L, g->nchoices * sizeof(choice), 0);
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

// The end of a "%bxy" match starting at s, or NO_MATCH; *scanned: the bytes read. A closer is
// recognised before an opener, so "%b''" pairs each quote with the next one.
static size_t balance_end(const unsigned char *src, size_t len, const item *it, size_t s,
                          size_t *scanned) {
    *scanned = 0;
    if (s >= len || src[s] != it->byte) return NO_MATCH;
    size_t depth = 1, i;
    for (i = s + 1; i < len; i++) {
        if (src[i] == it->byte2) {
            if (--depth == 0) break;
        } else if (src[i] == it->byte) {
            depth++;
        }
    }
    *scanned = i - s;
    return i < len ? i + 1 : NO_MATCH;
}

// Matches the whole program against the subject from offset s. Returns the end of the match, or
// NO_MATCH; the captures are left in m.
static size_t match_at(matcher *m, size_t s) {
    const program *g = m->g;
    const item *items = g->items;
    const byteset *sets = g->sets;
    const unsigned char *src = m->src;
    const size_t len = m->len;
    choice *stack = m->choices;
    size_t depth = 0;
    uint32_t pc = 0;
    // The step count lives in locals here (the compiler cannot keep m->steps in a register
    // across stores to the choice stack); m->steps is brought up to date at every check.
    uint64_t steps = m->steps, next_check = m->next_check;
#define SPEND(n)                         \
    do {                                 \
        steps += (n);                    \
        if (steps >= next_check) {       \
            m->steps = steps;            \
            checkpoint(m);               \
            next_check = m->next_check;  \
        }                                \
    } while (0)

    for (;;) {
        const item *it = &items[pc];
        SPEND(1);
        switch (it->op) {
        case OP_LITERAL: {
            const unsigned char *lit = g->literals + it->arg;
            size_t n = it->len, avail = len - s, k = 0, limit = n < avail ? n : avail;
            while (k < limit && src[s + k] == lit[k]) k++;
            // As if each byte were an item: those that matched, and the one that did not.
            if (k < n) {
                steps += k;
                goto backtrack;
            }
            steps += n - 1;
            s += n;
            pc++;
            continue;
        }
        case OP_CLASS: {
            const byteset *set = &sets[it->arg];
            if (it->rep == REP_ONE) {
                if (s < len && set_has(set, src[s])) {
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
            }
            // Longest first: take all that match; each backtrack gives one back.
            size_t least = it->rep == REP_PLUS;
            size_t max = it->rep == REP_OPTIONAL ? (s < len) : len - s, n = 0;
            if (it->any)
                n = max;
            else
                while (n < max && set_has(set, src[s + n])) n++;
            SPEND(n + 1);  // a scan, charged after the fact
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
            size_t scanned, e = balance_end(src, len, it, s, &scanned);
            SPEND(scanned);
            if (e == NO_MATCH) goto backtrack;
            s = e;
            pc++;
            continue;
        }
        case OP_FRONTIER: {
            // Outside the subject counts as "\0", so the start is "\0" before the first byte.
            const byteset *set = &sets[it->arg];
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
            SPEND(n);  // the comparison may read the whole capture
            if (memcmp(src + m->capture_start[k], src + s, n) != 0) goto backtrack;
            s += n;
            pc++;
            continue;
        }
        case OP_AT_END:
            if (s != len) goto backtrack;
            pc++;
            continue;
        case OP_ACCEPT:
            m->steps = steps;
            return s;
        default:  // OP_ERROR
            m->steps = steps;
            raise_pattern_error(m->L, it);
            return NO_MATCH;
        }
    backtrack:
        for (;;) {
            if (depth == 0) {
                m->steps = steps;
                return NO_MATCH;
            }
            choice *ch = &stack[depth - 1];
            const item *q = &items[ch->item];
            SPEND(1);
            if (q->rep == REP_LAZY) {
                size_t at = ch->base + ch->count;
                if (at < len && set_has(&sets[q->arg], src[at])) {
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
#undef SPEND
}

// The first match starting at or after `from` whose end is not `reject_end` (gsub and gmatch do
// not accept an empty match where the previous match ended). Returns its end and sets *start, or
// returns NO_MATCH. An anchored search tries `from` only.
static size_t search(matcher *m, size_t from, int anchored, size_t reject_end, size_t *start) {
    const program *g = m->g;
    const unsigned char *src = m->src;
    size_t len = m->len;
    int first = anchored ? FIRST_NONE : g->first_kind;
    const byteset *first_set = first == FIRST_SET ? &g->sets[g->first_set] : NULL;
    for (size_t s = from; s <= len; s++) {
        // Skipping is linear work, like a scan: not charged.
        if (first == FIRST_BYTE) {
            const unsigned char *hit = s < len ? memchr(src + s, g->first_byte, len - s) : NULL;
            if (hit == NULL) return NO_MATCH;  // the class needs a byte
            s = (size_t)(hit - src);
        } else if (first == FIRST_SET) {
            while (s < len && !set_has(first_set, src[s])) s++;
            if (s == len) return NO_MATCH;
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
    for (size_t i = 0; i < len; i++) {
        switch (p[i]) {
        case '^': case '$': case '*': case '+': case '?': case '.': case '(': case '[': case '%':
        case '-':
            return 0;
        }
    }
    return 1;
}

// The first occurrence of needle in haystack, or NULL. Candidates found by memchr are compared
// directly, which is fastest on the short subjects scripts mostly search; once that has read
// more than the haystack's length plus a little (a needle like "aaab" in "aaaa..."), the rest
// goes to glibc's memmem, which is linear-time (two-way), so no step budget is needed.
static const char *find_plain(const char *h, size_t hl, const char *n, size_t nl) {
    if (nl == 0) return h;
    if (nl > hl) return NULL;
    const char *last = h + (hl - nl);  // the last candidate
    size_t allowance = hl + 64;
    for (const char *at = h; at <= last; at++) {
        at = memchr(at, (unsigned char)n[0], (size_t)(last - at) + 1);
        if (at == NULL) return NULL;
        size_t k = 1;
        while (k < nl && at[k] == n[k]) k++;
        if (k == nl) return at;
        if (allowance < nl) return memmem(at + 1, (size_t)(h + hl - (at + 1)), n, nl);
        allowance -= nl;
    }
    return NULL;
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
        const char *hit = find_plain(s + init, ls - init, p, lp);
        if (hit == NULL) {
            luaL_pushfail(L);
            return 1;
        }
        lua_pushinteger(L, (lua_Integer)(hit - s) + 1);
        lua_pushinteger(L, (lua_Integer)(hit - s) + (lua_Integer)lp);
        return 2;
    }
    local_program local;
    const program *g = get_program(L, 2, p, lp, MODE_ANCHORS, &local, 0);
    choice choices[AU_PATTERN_LOCAL_CHOICES];
    matcher m;
    matcher_init(&m, L, s, ls, g, choice_stack(L, g, choices));
    size_t start = 0, end = search(&m, init, g->anchored, NO_MATCH, &start);
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

// gmatch's iteration state; its choice stack follows it in the same userdata. The iterator's
// upvalues: the subject, this state, the program's userdata.
typedef struct {
    size_t next;  // where the next search starts
    size_t last;  // end of the previous match, or NO_MATCH
} gmatch_state;

static int gmatch_step(lua_State *L) {
    size_t ls;
    const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
    gmatch_state *st = lua_touserdata(L, lua_upvalueindex(2));
    const program *g = lua_touserdata(L, lua_upvalueindex(3));
    matcher m;
    matcher_init(&m, L, s, ls, g, (choice *)(void *)(st + 1));
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
    lua_settop(L, 2);
    // No anchor here: a "^" would stop the iteration, so it stands for itself (manual §6.4).
    local_program local;  // a compilation's scratch space: the program is a userdata
    const program *g = get_program(L, 2, p, lp, MODE_GMATCH, &local, 1);  // pushes it
    // sizeof(gmatch_state) is a multiple of the alignment of the choices' size_t fields.
    gmatch_state *st = lua_newuserdatauv(L, sizeof *st + g->nchoices * sizeof(choice), 0);
    st->next = init > ls ? ls + 1 : init;
    st->last = NO_MATCH;
    lua_pushvalue(L, 1);  // the subject, converted to a string by luaL_checklstring
    lua_replace(L, 2);    // stack: subject, subject, program, state
    lua_rotate(L, 3, 1);  // subject, subject, state, program
    lua_pushcclosure(L, gmatch_step, 3);
    return 1;
}

// Appends the replacement template r (argument 3 as a string) for the match [s, e), expanding
// %0-%9 and %%.
static void add_template(const matcher *m, luaL_Buffer *b, const char *r, size_t lr, size_t s,
                         size_t e) {
    lua_State *L = m->L;
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

// Appends the replacement for the match [s, e) given by argument 3 of type `kind` (a function
// or a table).
static void add_computed(const matcher *m, luaL_Buffer *b, size_t s, size_t e, int kind) {
    lua_State *L = m->L;
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
    // Before the buffer claims the stack:
    local_program local;
    const program *g = get_program(L, 2, p, lp, MODE_ANCHORS, &local, 0);
    choice choices[AU_PATTERN_LOCAL_CHOICES];
    matcher m;
    matcher_init(&m, L, s, ls, g, choice_stack(L, g, choices));
    const char *r = NULL;  // a template: its text, read at the first match
    size_t lr = 0;
    int template_has_escape = 0;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t pos = 0, last = NO_MATCH;
    lua_Integer n = 0;
    while (n < max) {
        size_t start = 0, end = search(&m, pos, g->anchored, last, &start);
        if (end == NO_MATCH) break;
        n++;
        luaL_addlstring(&b, s + pos, start - pos);
        if (kind == LUA_TSTRING || kind == LUA_TNUMBER) {
            if (r == NULL) {
                r = lua_tolstring(L, 3, &lr);
                template_has_escape = memchr(r, '%', lr) != NULL;
            }
            if (template_has_escape)
                add_template(&m, &b, r, lr, start, end);
            else
                luaL_addlstring(&b, r, lr);
        } else {
            add_computed(&m, &b, start, end, kind);
        }
        pos = last = end;
        if (g->anchored) break;
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
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &cache_registry_key) != LUA_TUSERDATA) {
        lua_pop(L, 1);
        pattern_cache *cache = lua_newuserdatauv(L, sizeof *cache, AU_PATTERN_CACHE_SLOTS);
        memset(cache, 0, sizeof *cache);
        cache->locale = locale_table();
        cache->locale_digest = locale_digest();
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &cache_registry_key);
    }
    for (const luaL_Reg *f = functions; f->name != NULL; f++) {
        lua_pushvalue(L, -1);
        lua_pushcclosure(L, f->func, 1);
        lua_setfield(L, string_table, f->name);
    }
    lua_pop(L, 1);
}
