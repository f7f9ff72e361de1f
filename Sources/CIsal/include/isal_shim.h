#ifndef MRD_ISAL_SHIM_H
#define MRD_ISAL_SHIM_H
#include <stddef.h>
#include <stdint.h>

/// Result codes of mrd_isal_inflate.
enum {
    MRD_ISAL_OK = 0,            // progress made; call again with more input or output space
    MRD_ISAL_MEMBER_END = 1,    // one gzip member ended and its CRC32 and length matched
    MRD_ISAL_CORRUPT = -1,      // invalid deflate data or gzip header
    MRD_ISAL_CHECKSUM = -2,     // CRC32 or length of a gzip member did not match
    MRD_ISAL_UNAVAILABLE = -3   // ISA-L not compiled in or libisal.so.2 not found
};

/// 1 when ISA-L's inflate can be used in this process (header present at build time and the shared
/// library loadable now), else 0. Thread-safe; the library is loaded once.
int mrd_isal_available(void);

/// A new gzip inflater, or NULL (unavailable or out of memory).
void *mrd_isal_create(void);
void mrd_isal_destroy(void *inflater);
/// Prepares for the next gzip member; unconsumed input given to the last call is kept by the caller.
void mrd_isal_reset(void *inflater);

/// Inflates from *input (advanced past what was consumed) into output. *produced receives the
/// bytes written. Returns one of the MRD_ISAL_ codes.
int mrd_isal_inflate(void *inflater, const uint8_t **input, size_t *input_length,
                     uint8_t *output, size_t output_capacity, size_t *produced);

#endif
