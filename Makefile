# Avatar build: `make` (EL1 kernel), `make HV=1` (EL2 hypervisor), `make run`, `make test`, `make bench`.
# dosfstools installs mkfs.fat/fsck.fat in /usr/sbin, which a non-login PATH may lack.
export PATH := $(PATH):/usr/sbin:/sbin

HV    ?= 0
SMP   ?= 1
GIC   ?= 2
MEM   ?= 512M
DEBUG ?= 0
V     ?= 0
Q     := $(if $(filter 1,$(V)),,@)

CROSS ?= aarch64-linux-gnu-
CLANG ?= 0
ifeq ($(CLANG),1)
  CC      = clang --target=aarch64-linux-gnu
  GCCONLY :=
else
  CC      = $(CROSS)gcc
  GCCONLY := -fno-tree-loop-distribute-patterns
endif
OBJCOPY= $(CROSS)objcopy
HOSTCC ?= cc
QEMU  ?= qemu-system-aarch64

ifeq ($(HV),1)
  MODE    := el2
  MODEDEF := -DAVATAR_HV
  MACHINE := virt,virtualization=on,gic-version=$(GIC)
else
  MODE    := el1
  MODEDEF :=
  MACHINE := virt,gic-version=$(GIC)
endif

B   := build
OBJ := $(B)/$(MODE)

ARCH_SRCS   := $(filter-out arch/arm64/avatar.ld.S,$(wildcard arch/arm64/*.c arch/arm64/*.S))
DRV_SRCS    := $(wildcard drivers/*.c)
LIB_SRCS    := $(wildcard lib/*.c)
KERNEL_SRCS := $(wildcard kernel/*.c)
FS_SRCS     := $(wildcard fs/*.c)
SHELL_SRCS  := $(wildcard shell/*.c)
# The VMM layer and the built-in guest table exist only in the hypervisor.
VMM_SRCS    := $(if $(filter 1,$(HV)),$(wildcard vmm/*.c guest/*.c))
SRCS := $(ARCH_SRCS) $(DRV_SRCS) $(LIB_SRCS) $(KERNEL_SRCS) $(SHELL_SRCS) $(VMM_SRCS)
# User mode (processes at EL0, system calls) exists only in the native kernel.
NATIVE_SRCS := arch/arm64/uvm.c arch/arm64/uaccess.c arch/arm64/uaccess.S arch/arm64/uentry.S \
	kernel/aspace.c kernel/vma.c kernel/elf.c kernel/exec.c kernel/fault.c kernel/fd.c \
	kernel/futex.c kernel/proc.c kernel/uthread.c kernel/tty.c kernel/syscall.c kernel/sys_fs.c \
	kernel/sys_path.c kernel/sys_mem.c kernel/sys_proc.c kernel/sys_sched.c shell/cmd_proc.c \
	kernel/pipe.c kernel/pipe_buf.c kernel/signal.c kernel/sys_signal.c kernel/sys_poll.c \
	kernel/tty_ldisc.c kernel/dev.c kernel/sys_info.c kernel/procfs.c
ifeq ($(HV),1)
  SRCS := $(filter-out $(NATIVE_SRCS),$(SRCS))
else
  # The NIC driver's one user is the hypervisor's switch uplink (vmm/vnet_uplink.c).
  SRCS := $(filter-out drivers/virtio_net.c drivers/virtio_net_queue.c,$(SRCS))
endif
OBJS := $(patsubst %,$(OBJ)/%.o,$(SRCS))
ifneq ($(HV),1)
  OBJS += $(OBJ)/programs.o # the user programs, built in (app/app.mk)
endif
# The file system is an archive: the linker takes only the objects the kernel uses.
FS_OBJS := $(patsubst %,$(OBJ)/%.o,$(FS_SRCS))
FS_LIB := $(OBJ)/libfs.a

OPT := $(if $(filter 1,$(DEBUG)),-O0 -DDEBUG,-O2)
CFLAGS := -std=c11 -ffreestanding -nostdlib -fno-builtin -fno-stack-protector -fno-pie \
	-fno-omit-frame-pointer $(GCCONLY) -mgeneral-regs-only \
	-mno-outline-atomics -mcpu=cortex-a72 -g $(OPT) -Wall -Wextra -Werror -Iinclude $(MODEDEF) \
	-MMD -MP
ASFLAGS := $(filter-out -std=c11,$(CFLAGS)) -D__ASSEMBLY__
LDFLAGS := -nostdlib -static $(if $(filter 1,$(CLANG)),-fuse-ld=bfd,-no-pie) -Wl,--build-id=none -Wl,-z,max-page-size=4096 \
	-Wl,--no-warn-rwx-segments

IMG ?= host.img
LIBGCC := $(shell $(CROSS)gcc -print-libgcc-file-name)

QEMU_FLAGS = -M $(MACHINE) -cpu cortex-a72 -smp $(SMP) -m $(MEM) -nographic -nic none \
	-kernel $(B)/avatar-$(MODE).bin \
	-drive if=none,file=$(IMG),format=raw,id=hd0 -device virtio-blk-device,drive=hd0
# The hypervisor's uplink (vmm/vnet_uplink.c): QEMU's user network on a virtio-net NIC, by default
# with HV=1 only (the native kernel has no network stack). NET=0 leaves it out; HOSTFWD is a
# comma-separated list of QEMU hostfwd rules, e.g. HOSTFWD=tcp::8080-:80,tcp::2222-:22.
# -nic none stays: it keeps QEMU from adding its default PCI NIC, which needs an option ROM.
NET     ?= $(HV)
HOSTFWD ?=
comma   := ,
NET_FLAGS = -netdev user,id=net0$(if $(HOSTFWD),$(comma)hostfwd=$(subst $(comma),$(comma)hostfwd=,$(HOSTFWD))) \
	-device virtio-net-device,netdev=net0
ifeq ($(NET),1)
  QEMU_FLAGS += $(NET_FLAGS)
endif

.PHONY: all run debug test unit qemu-test bench deps clean format format-check img linux-guest
all: $(B)/avatar.bin

# TestOS, the guest OS built here: its rules, and its binaries added to `all`.
include guest/testos/testos.mk

$(B)/avatar.bin: $(B)/avatar-$(MODE).bin
	$(Q)cp $< $@
	$(Q)cp $(B)/avatar-$(MODE).elf $(B)/avatar.elf

$(B)/avatar-$(MODE).bin: $(B)/avatar-$(MODE).elf
	$(Q)$(OBJCOPY) -O binary $< $@

$(B)/avatar-$(MODE).elf: $(OBJS) $(FS_LIB) $(OBJ)/avatar.ld
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -T $(OBJ)/avatar.ld $(OBJS) $(FS_LIB) $(LIBGCC) -o $@

$(FS_LIB): $(FS_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@
	$(Q)$(CROSS)ar rcs $@ $^

$(OBJ)/avatar.ld: arch/arm64/avatar.ld.S
	@mkdir -p $(dir $@)
	$(Q)$(CC) -E -P -x c -D__ASSEMBLER__ $(MODEDEF) -Iinclude $< -o $@

$(OBJ)/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $(MODE)/$<"
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OBJ)/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $(MODE)/$<"
	$(Q)$(CC) $(ASFLAGS) -c $< -o $@

include app/app.mk

-include $(OBJS:.o=.d) $(FS_OBJS:.o=.d)

deps:
	@bash scripts/deps.sh

# host.img: the FAT32 disk both modes boot with (made once; `make img` remakes it).
$(IMG):
	bash scripts/create_host_img.sh -o $(IMG)
	bash scripts/setup_guest_files.sh -i $(IMG)

img: deps
	bash scripts/create_host_img.sh -f -o $(IMG)
	bash scripts/setup_guest_files.sh -i $(IMG)

run: deps all $(IMG)
	$(QEMU) $(QEMU_FLAGS)

debug: deps all $(IMG)
	@echo "waiting for gdb-multiarch: target remote :1234 (symbols: $(B)/avatar-$(MODE).elf)"
	$(QEMU) $(QEMU_FLAGS) -S -s

# Host unit tests: tests/unit/test_X.c linked with the sources listed in test_X.deps.
UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/unit/%,$(filter-out tests/unit/test_main.c,$(wildcard tests/unit/test_*.c)))
HOST_CFLAGS := -std=c11 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
	-DAVATAR_HOST -Iinclude -Itests/unit -Wall -Wextra -Werror
$(B)/unit/%: tests/unit/%.c tests/unit/%.deps tests/unit/test_main.c tests/unit/host_shim.c \
		$(shell cat tests/unit/*.deps 2>/dev/null | grep -v '\.deps$$') \
		$(wildcard include/*/*.h tests/unit/*.h fs/*.h)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(HOST_CFLAGS) $< tests/unit/test_main.c tests/unit/host_shim.c \
		$(shell sh tests/unit/deps.sh tests/unit/$*.deps) -o $@ -lpthread

# The FAT32 fuzz target doubles as a regression test (fixed-seed mutations, no libFuzzer).
$(B)/unit/test_fuzz_fat32: tests/fuzz/fuzz_fat32.c $(wildcard fs/fat32*.c fs/*.h include/fs/*.h)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -DFUZZ_STANDALONE $< $(wildcard fs/fat32*.c) \
		tests/unit/host_shim.c -o $@

# The manifest fuzz target, the same way.
$(B)/unit/test_fuzz_manifest: tests/fuzz/fuzz_manifest.c $(wildcard vmm/manifest*.c vmm/*.h \
		fs/vfs.c lib/printf.c include/vmm/*.h include/fs/vfs.h tests/unit/fake_sched.c)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -Itests/unit -DFUZZ_STANDALONE $< $(wildcard vmm/manifest*.c) fs/vfs.c \
		lib/printf.c tests/unit/host_shim.c $(shell sh tests/unit/deps.sh tests/unit/fake_sched.deps) \
		-o $@ -lpthread

# The virtio-net device model's fuzz target, the same way.
$(B)/unit/test_fuzz_vvirtio_net: tests/fuzz/fuzz_vvirtio_net.c $(wildcard vmm/vvirtio_net*.c \
		vmm/vvirtio_net*.h include/vmm/*.h include/lib/*.h)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -DFUZZ_STANDALONE $< $(wildcard vmm/vvirtio_net*.c) \
		tests/unit/host_shim.c -o $@

unit: $(UNIT_TESTS) $(B)/unit/test_fuzz_fat32 $(B)/unit/test_fuzz_manifest $(B)/unit/test_fuzz_vvirtio_net
	@if [ -x tests/unit/gen_dtbs.sh ]; then tests/unit/gen_dtbs.sh $(B)/unit/dtb; fi

test: deps format-check
	$(MAKE) HV=0 all
	$(MAKE) HV=1 all
	@echo "  clang build check (both modes)"
	$(MAKE) CLANG=1 B=$(B)/clang HV=0 $(B)/clang/avatar-el1.bin
	$(MAKE) CLANG=1 B=$(B)/clang HV=1 $(B)/clang/avatar-el2.bin
	$(MAKE) unit
	AVATAR_BUILD=$(abspath $(B)) sh scripts/get_linux_guest.sh
	python3 tests/run_all.py --build $(B)

bench: deps
	$(MAKE) HV=0 all
	$(MAKE) HV=1 all
	AVATAR_BUILD=$(abspath $(B)) sh scripts/get_linux_guest.sh
	python3 bench/run.py --build $(B)

# The Linux guest (Debian's arm64 kernel + a busybox initramfs) staged for `make img`.
linux-guest: deps
	AVATAR_BUILD=$(abspath $(B)) sh scripts/get_linux_guest.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@echo "  clang-format check"
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(B)
