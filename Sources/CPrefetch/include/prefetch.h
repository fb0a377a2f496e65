// A read of memory that will be needed soon, started now: a batch of feed lookups issues one for
// each table slot it will probe, so their cache misses overlap instead of following one another.
// Swift has no prefetch of its own; this header's inline function compiles into the caller.
#ifndef AUTOMATOR_PREFETCH_H
#define AUTOMATOR_PREFETCH_H

/// Starts loading the cache line holding `address` into every cache level. A hint only: it
/// never faults, whatever `address` is, and changes nothing the program can see.
static inline void prefetch_read(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
