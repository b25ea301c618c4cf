/* hello.c - the smallest user program: greets on the console, shows its arguments, exits 0. */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    printf("hello from pid %d:", getpid());
    for (int i = 0; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\n");
    return 0;
}
