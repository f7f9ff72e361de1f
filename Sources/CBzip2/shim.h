#ifndef MRD_CBZIP2_SHIM_H
#define MRD_CBZIP2_SHIM_H
#include <bzlib.h>
#endif
