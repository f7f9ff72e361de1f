#ifndef MRD_CZLIB_SHIM_H
#define MRD_CZLIB_SHIM_H
#include <zlib.h>

// inflateInit2 and deflateInit2 are macros that Swift cannot call; these wrap them.
// windowBits 15 + 32: zlib or gzip header, detected automatically.
static inline int mrd_inflate_init_gzip(z_streamp stream) {
    return inflateInit2(stream, 15 + 32);
}

// windowBits 15 + 16: write a gzip (not zlib) wrapper.
static inline int mrd_deflate_init_gzip(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

// Raw deflate (no wrapper), as used inside BGZF blocks written by hand.
static inline int mrd_deflate_init_raw(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
}
#endif
