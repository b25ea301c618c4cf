/* procfs.h - /proc: system and process information as files, generated when opened. */
#ifndef KERNEL_PROCFS_H
#define KERNEL_PROCFS_H

/* Mount it at /proc: 0 or the VFS error. */
int procfs_mount(void);

#endif
