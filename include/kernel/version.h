/* version.h - the release number and the mode this image was built for. */
#ifndef KERNEL_VERSION_H
#define KERNEL_VERSION_H

#define AVATAR_VERSION "0.1.0"
#ifdef AVATAR_HV
#define AVATAR_MODE "hypervisor"
#else
#define AVATAR_MODE "kernel"
#endif

#endif
