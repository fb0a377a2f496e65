// Hex digests (MD5, SHA-1, SHA-256, SHA-512) decoded with SSE2, as every feed lookup of a hash
// does: Swift's `SIMD16<UInt8>` compiles its byte compares to a loop over the lanes through the
// stack, so this is C with intrinsics (x86-64's baseline SSE2; a plain loop elsewhere).
#ifndef AUTOMATOR_HEX_DIGITS_H
#define AUTOMATOR_HEX_DIGITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// Decodes the `count` hex digits at `text` (a multiple of 8), either case, into `words`, the
/// first digit most significant: a word per 16 digits, and the low half of one more for 8 left
/// over. Reads exactly `count` bytes. False, with `words` unspecified, when a byte is not a
/// hex digit or `count` is not a multiple of 8.
bool hex_decode(const uint8_t *text, size_t count, uint64_t *words);

#endif
