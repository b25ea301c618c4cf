/* cat.c - copy files (or the console, to end of file: ^D) to the console. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static int copy(int fd, const char *name)
{
    char buf[512];
    ssize_t n;

    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        if (write(1, buf, (size_t)n) != n) {
            perror("cat: write");
            return 1;
        }
    }
    if (n < 0) {
        perror(name);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int status = 0;

    if (argc < 2)
        return copy(0, "stdin");
    for (int i = 1; i < argc; i++) {
        int fd = open(argv[i], O_RDONLY);
        if (fd < 0) {
            perror(argv[i]);
            status = 1;
            continue;
        }
        status |= copy(fd, argv[i]);
        close(fd);
    }
    return status;
}
