#ifndef AOCPIPE_CZLIB_SHIM_H
#define AOCPIPE_CZLIB_SHIM_H
#include <zlib.h>

/// inflateInit2 and deflateInit2 are macros in zlib.h; Swift cannot call macros.
static inline int czlib_inflate_init_gzip(z_stream *strm) {
    /* 15 window bits + 16: gzip wrapper only (we detect the magic ourselves). */
    return inflateInit2(strm, 15 + 16);
}

/* Raw deflate (no wrapper): decoding resumed inside a member at an access point. */
static inline int czlib_inflate_init_raw(z_stream *strm) {
    return inflateInit2(strm, -15);
}

static inline int czlib_deflate_init_gzip(z_stream *strm, int level) {
    return deflateInit2(strm, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
#endif
