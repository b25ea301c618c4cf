/* blk.h - TestOS's disk exercises over its virtio-blk driver, asked for by bootargs. */
#ifndef TESTOS_BLK_H
#define TESTOS_BLK_H

#include "arch.h"

bool blk_wanted(void);
void blk_run(void);

#endif
