/* nethostile.h - TestOS as a hostile virtio-net driver, asked for by the bootarg nethostile. */
#ifndef TESTOS_NETHOSTILE_H
#define TESTOS_NETHOSTILE_H

#include "arch.h"

bool nethostile_wanted(void);
/* Never returns: after its attacks it keeps bad receive buffers posted until the VM stops. */
__attribute__((noreturn)) void nethostile_run(void);

#endif
