#include "isal_shim.h"
#include <stdlib.h>

#if defined(__has_include)
#if __has_include(<isa-l/igzip_lib.h>) && __has_include(<dlfcn.h>)
#define MRD_HAVE_ISAL 1
#endif
#endif

#ifdef MRD_HAVE_ISAL
#include <dlfcn.h>
#include <pthread.h>
#include <isa-l/igzip_lib.h>

// Only the struct layout comes from the header; the functions come from dlopen, so a binary built
// with the header still runs (on zlib) where libisal is not installed.
static void (*p_init)(struct inflate_state *);
static void (*p_reset)(struct inflate_state *);
static int (*p_inflate)(struct inflate_state *);
static int loaded;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load_isal(void) {
    const char *names[] = {"libisal.so.2", "libisal.so", "libisal.2.dylib", "libisal.dylib"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *handle = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!handle) continue;
        p_init = (void (*)(struct inflate_state *))dlsym(handle, "isal_inflate_init");
        p_reset = (void (*)(struct inflate_state *))dlsym(handle, "isal_inflate_reset");
        p_inflate = (int (*)(struct inflate_state *))dlsym(handle, "isal_inflate");
        if (p_init && p_reset && p_inflate) { loaded = 1; return; }
        dlclose(handle);
    }
}

int mrd_isal_available(void) {
    pthread_once(&load_once, load_isal);
    return loaded;
}

void *mrd_isal_create(void) {
    if (!mrd_isal_available()) return NULL;
    struct inflate_state *state = malloc(sizeof *state);
    if (!state) return NULL;
    p_init(state);
    state->crc_flag = ISAL_GZIP;
    return state;
}

void mrd_isal_destroy(void *inflater) { free(inflater); }

void mrd_isal_reset(void *inflater) {
    struct inflate_state *state = inflater;
    p_reset(state);
    state->crc_flag = ISAL_GZIP;
}

int mrd_isal_inflate(void *inflater, const uint8_t **input, size_t *input_length,
                     uint8_t *output, size_t output_capacity, size_t *produced) {
    struct inflate_state *state = inflater;
    // avail_in/avail_out are 32-bit in ISA-L.
    uint32_t in_chunk = *input_length > 0x40000000u ? 0x40000000u : (uint32_t)*input_length;
    uint32_t out_chunk = output_capacity > 0x40000000u ? 0x40000000u : (uint32_t)output_capacity;
    state->next_in = (uint8_t *)*input;
    state->avail_in = in_chunk;
    state->next_out = output;
    state->avail_out = out_chunk;
    int status = p_inflate(state);
    size_t consumed = in_chunk - state->avail_in;
    *input += consumed;
    *input_length -= consumed;
    *produced = out_chunk - state->avail_out;
    if (status == ISAL_INCORRECT_CHECKSUM) return MRD_ISAL_CHECKSUM;
    if (status < 0) return MRD_ISAL_CORRUPT;
    if (state->block_state == ISAL_BLOCK_FINISH) return MRD_ISAL_MEMBER_END;
    return MRD_ISAL_OK;
}

#else

int mrd_isal_available(void) { return 0; }
void *mrd_isal_create(void) { return NULL; }
void mrd_isal_destroy(void *inflater) { (void)inflater; }
void mrd_isal_reset(void *inflater) { (void)inflater; }
int mrd_isal_inflate(void *inflater, const uint8_t **input, size_t *input_length,
                     uint8_t *output, size_t output_capacity, size_t *produced) {
    (void)inflater; (void)input; (void)input_length; (void)output; (void)output_capacity;
    *produced = 0;
    return MRD_ISAL_UNAVAILABLE;
}

#endif
