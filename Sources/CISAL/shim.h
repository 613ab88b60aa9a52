#ifndef AOCPIPE_CISAL_SHIM_H
#define AOCPIPE_CISAL_SHIM_H
#include <isa-l/igzip_lib.h>
#endif
