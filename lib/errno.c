/* errno.c - human-readable text for error numbers. */
#include "lib/errno.h"

const char *errno_str(int err)
{
    if (err < 0)
        err = -err;
    switch (err) {
    case 0: return "success";
    case EPERM: return "operation not permitted";
    case ENOENT: return "no such file or directory";
    case ESRCH: return "no such process";
    case EINTR: return "interrupted";
    case EIO: return "input/output error";
    case ENXIO: return "no such device or address";
    case E2BIG: return "argument list too long";
    case ENOEXEC: return "exec format error";
    case EBADF: return "bad file descriptor";
    case ECHILD: return "no child processes";
    case EAGAIN: return "try again";
    case ENOMEM: return "out of memory";
    case EACCES: return "permission denied";
    case EFAULT: return "bad address";
    case EBUSY: return "device or resource busy";
    case EEXIST: return "file exists";
    case EXDEV: return "cross-device link";
    case ENODEV: return "no such device";
    case ENOTDIR: return "not a directory";
    case EISDIR: return "is a directory";
    case EINVAL: return "invalid argument";
    case ENFILE: return "too many open files in system";
    case EMFILE: return "too many open files";
    case ENOTTY: return "not a terminal";
    case EFBIG: return "file too large";
    case ENOSPC: return "no space left on device";
    case ESPIPE: return "illegal seek";
    case EROFS: return "read-only file system";
    case EMLINK: return "too many links";
    case EPIPE: return "broken pipe";
    case ERANGE: return "result out of range";
    case EDEADLK: return "deadlock avoided";
    case ENAMETOOLONG: return "file name too long";
    case ENOSYS: return "function not implemented";
    case ENOTEMPTY: return "directory not empty";
    case ELOOP: return "too many levels of links";
    case EOVERFLOW: return "value too large";
    case EILSEQ: return "invalid byte sequence";
    case ENOTSUP: return "not supported";
    case ETIMEDOUT: return "timed out";
    case EUCLEAN: return "file system is corrupt";
    default: return "unknown error";
    }
}
