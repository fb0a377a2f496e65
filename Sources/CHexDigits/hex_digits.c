#include "hex_digits.h"

#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>

/// The values of the hex digits among `bytes` (0 for other bytes); `*valid` gets a mask with
/// a bit set for each byte that is one.
static inline __m128i digit_values(__m128i bytes, int *valid) {
    // Unsigned "x <= limit" is min(x, limit) == x: SSE2 has no unsigned byte compare.
    __m128i decimal = _mm_sub_epi8(bytes, _mm_set1_epi8('0'));
    __m128i is_decimal = _mm_cmpeq_epi8(_mm_min_epu8(decimal, _mm_set1_epi8(9)), decimal);
    __m128i letter = _mm_sub_epi8(_mm_or_si128(bytes, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
    __m128i is_letter = _mm_cmpeq_epi8(_mm_min_epu8(letter, _mm_set1_epi8(5)), letter);
    *valid = _mm_movemask_epi8(_mm_or_si128(is_decimal, is_letter));
    return _mm_or_si128(_mm_and_si128(is_decimal, decimal),
                        _mm_and_si128(is_letter, _mm_add_epi8(letter, _mm_set1_epi8(10))));
}

/// Sixteen digit values (or eight, in the low half) paired into bytes, `first << 4 | second`,
/// and packed into the low eight bytes: the first digit's byte lowest.
static inline __m128i packed(__m128i values) {
    __m128i pairs = _mm_or_si128(_mm_slli_epi16(_mm_and_si128(values, _mm_set1_epi16(0x00FF)), 4),
                                 _mm_srli_epi16(values, 8));
    return _mm_packus_epi16(pairs, pairs);
}

bool hex_decode(const uint8_t *text, size_t count, uint64_t *words) {
    if (count % 8 != 0) return false;
    // Every chunk decoded, the validity checked once at the end: no branch per chunk.
    bool valid = true;
    size_t index = 0;
    for (; index + 16 <= count; index += 16) {
        int mask;
        __m128i values = digit_values(_mm_loadu_si128((const __m128i *)(text + index)), &mask);
        valid &= mask == 0xFFFF;
        words[index / 16] = __builtin_bswap64((uint64_t)_mm_cvtsi128_si64(packed(values)));
    }
    if (index < count) {
        // Eight digits left (a SHA-1's last): read as eight bytes, never sixteen.
        int mask;
        __m128i values = digit_values(_mm_loadl_epi64((const __m128i *)(text + index)), &mask);
        valid &= (mask & 0xFF) == 0xFF;
        words[index / 16] = __builtin_bswap32((uint32_t)_mm_cvtsi128_si32(packed(values)));
    }
    return valid;
}

#else

bool hex_decode(const uint8_t *text, size_t count, uint64_t *words) {
    if (count % 8 != 0) return false;
    for (size_t word = 0; word < (count + 15) / 16; word++) words[word] = 0;
    for (size_t index = 0; index < count; index++) {
        uint8_t decimal = (uint8_t)(text[index] - '0');
        uint8_t letter = (uint8_t)((text[index] | 0x20) - 'a');
        if (decimal >= 10 && letter >= 6) return false;
        words[index / 16] = words[index / 16] << 4 | (decimal < 10 ? decimal : (uint8_t)(letter + 10));
    }
    return true;
}

#endif
