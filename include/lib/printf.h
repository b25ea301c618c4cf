/* printf.h - freestanding formatted output into a callback sink or a bounded buffer. */
#ifndef LIB_PRINTF_H
#define LIB_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

/* Receives formatted output in pieces; s is not NUL-terminated. */
typedef void (*printf_sink)(void *ctx, const char *s, size_t n);

/* Formats into sink; returns the number of characters emitted, or -EOVERFLOW past INT_MAX. */
int vcbprintf(printf_sink sink, void *ctx, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* C vsnprintf/snprintf semantics under names that do not collide with the host libc. */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifndef AVATAR_HOST
/* The standard names, for kernel code; on the host libc provides them. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#endif

#endif
