#include <zlib.h>

// inflateInit2 is a macro, which Swift cannot call: raw DEFLATE (no zlib header), as ZIP stores it.
static inline int czlib_inflate_init_raw(z_streamp stream) { return inflateInit2(stream, -MAX_WBITS); }
