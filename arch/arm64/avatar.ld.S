/* avatar.ld.S - link map: loaded at PA 0x40200000 (RAM base + text_offset), run at PA + KERNEL_VA_OFFSET. */
#include "arch/memlayout.h"

#define LOAD_PA 0x40200000

OUTPUT_FORMAT("elf64-littleaarch64")
OUTPUT_ARCH(aarch64)
ENTRY(_start)

SECTIONS
{
    . = LOAD_PA + KERNEL_VA_OFFSET;
    _kernel_start = .;
    _text_start = .;
    .text : AT(LOAD_PA) {
        KEEP(*(.text.head))
        *(.text .text.*)
    }
    . = ALIGN(4096);
    _text_end = .;
    _rodata_start = .;
    .rodata : {
        *(.rodata .rodata.*)
        . = ALIGN(8);
        __shell_cmds_start = .;
        KEEP(*(.shell_cmds))
        __shell_cmds_end = .;
        . = ALIGN(8);
        __init_hooks_start = .;
        KEEP(*(.init_hooks))
        __init_hooks_end = .;
        . = ALIGN(8);
        __cpu_init_hooks_start = .;
        KEEP(*(.cpu_init_hooks))
        __cpu_init_hooks_end = .;
    }
    . = ALIGN(4096);
    _rodata_end = .;
    _data_start = .;
    .data : { *(.data .data.*) }
    . = ALIGN(16);
    _bss_start = .;
    .bss (NOLOAD) : { *(.bss .bss.*) *(COMMON) }
    . = ALIGN(4096);
    _bss_end = .;
    _kernel_end = .;
    _kernel_size = _kernel_end - _kernel_start;

    /DISCARD/ : { *(.comment) *(.note*) *(.eh_frame*) }
}
