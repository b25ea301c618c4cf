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

# Every build variant compiles into its own object directory, named by what changes the code
# (mode, DEBUG, CLANG); $(OBJ)/flags records the exact command line, so any other change of
# compiler or flags (CROSS=, an edited CFLAGS) recompiles instead of reusing an object.
B       := build
VARIANT := $(MODE)$(if $(filter 1,$(DEBUG)),-debug)$(if $(filter 1,$(CLANG)),-clang)
OBJ     := $(B)/$(VARIANT)

ARCH_SRCS   := $(filter-out arch/arm64/avatar.ld.S,$(wildcard arch/arm64/*.c arch/arm64/*.S))
DRV_SRCS    := $(wildcard drivers/*.c)
LIB_SRCS    := $(wildcard lib/*.c)
KERNEL_SRCS := $(wildcard kernel/*.c)
BLOCK_SRCS  := $(wildcard block/*.c)
FS_SRCS     := $(wildcard fs/*.c)
SHELL_SRCS  := $(wildcard shell/*.c)
# The VMM layer and the built-in guest table exist only in the hypervisor.
VMM_SRCS    := $(if $(filter 1,$(HV)),$(wildcard vmm/*.c guest/*.c))
SRCS := $(ARCH_SRCS) $(DRV_SRCS) $(BLOCK_SRCS) $(LIB_SRCS) $(KERNEL_SRCS) $(SHELL_SRCS) $(VMM_SRCS)
# User mode (processes at EL0, system calls) exists only in the native kernel.
NATIVE_SRCS := arch/arm64/uvm.c arch/arm64/uaccess.c arch/arm64/uaccess.S arch/arm64/uentry.S \
	kernel/aspace.c kernel/vma.c kernel/elf.c kernel/exec.c kernel/fault.c kernel/fd.c \
	kernel/futex.c kernel/proc.c kernel/uthread.c kernel/tty.c kernel/syscall.c kernel/sys_fs.c \
	kernel/sys_path.c kernel/sys_mem.c kernel/sys_proc.c kernel/sys_sched.c shell/cmd_proc.c \
	kernel/pipe.c kernel/pipe_buf.c kernel/signal.c kernel/sys_signal.c kernel/sys_poll.c \
	kernel/tty_ldisc.c kernel/devfs.c kernel/chrdev.c kernel/page_cache.c kernel/sys_info.c kernel/procfs.c shell/boot_conf.c
ifeq ($(HV),1)
  SRCS := $(filter-out $(NATIVE_SRCS),$(SRCS))
else
  # The NIC driver's one user is the hypervisor's switch uplink (vmm/vnet_uplink.c); the guest
  # entry path is the vmm's.
  SRCS := $(filter-out drivers/virtio_net.c drivers/virtio_net_queue.c arch/arm64/vcpu_entry.S,$(SRCS))
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

.PHONY: all run debug test unit qemu-test bench deps clean format format-check img linux-guest \
	build-force check-includes check-docs
all: $(B)/avatar.bin

# TestOS, the guest OS built here: its rules, and its binaries added to `all`.
include guest/testos/testos.mk

# The names the tests, the benchmarks and gdb use: build/avatar-el1.{elf,bin} and
# build/avatar-el2.{elf,bin} are the last variant built of each mode, build/avatar.{elf,bin} the
# last one built at all. Each is a copy of $(OBJ)/avatar.elf that a marker file forces whenever
# the variant it should hold changes, so switching back to an older variant (or mode) whose
# objects are all up to date still replaces the copy.
$(B)/avatar.bin: $(B)/avatar-$(MODE).bin $(B)/avatar.variant
	$(Q)cp $< $@
	$(Q)cp $(B)/avatar-$(MODE).elf $(B)/avatar.elf

$(B)/avatar-$(MODE).bin: $(B)/avatar-$(MODE).elf
	$(Q)$(OBJCOPY) -O binary $< $@

$(B)/avatar-$(MODE).elf: $(OBJ)/avatar.elf $(B)/avatar-$(MODE).variant
	$(Q)cp $< $@

$(OBJ)/avatar.elf: $(OBJS) $(FS_LIB) $(OBJ)/avatar.ld
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -T $(OBJ)/avatar.ld $(OBJS) $(FS_LIB) $(LIBGCC) -o $@

# A marker holds a line naming what its target was last made from; it is rewritten (and so
# newer than the target) only when that line changes.
define MARKER
@mkdir -p $(dir $@)
@echo '$(1)' | cmp -s - $@ || echo '$(1)' > $@
endef
$(B)/avatar.variant: build-force
	$(call MARKER,$(VARIANT))
$(B)/avatar-$(MODE).variant: build-force
	$(call MARKER,$(VARIANT))
$(OBJ)/flags: build-force
	$(call MARKER,$(CC) $(CFLAGS) $(LDFLAGS) $(MODEDEF))

$(FS_LIB): $(FS_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@
	$(Q)$(CROSS)ar rcs $@ $^

# The linker script is C-preprocessed (it includes memlayout.h): -MMD tracks those headers too.
$(OBJ)/avatar.ld: arch/arm64/avatar.ld.S $(OBJ)/flags
	@mkdir -p $(dir $@)
	$(Q)$(CC) -E -P -x c -D__ASSEMBLER__ $(MODEDEF) -Iinclude -MMD -MP -MT $@ -MF $@.d $< -o $@

$(OBJ)/%.c.o: %.c $(OBJ)/flags
	@mkdir -p $(dir $@)
	@echo "  CC      $(VARIANT)/$<"
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OBJ)/%.S.o: %.S $(OBJ)/flags
	@mkdir -p $(dir $@)
	@echo "  AS      $(VARIANT)/$<"
	$(Q)$(CC) $(ASFLAGS) -c $< -o $@

include app/app.mk
$(OBJ)/programs.o: $(OBJ)/flags

-include $(OBJS:.o=.d) $(FS_OBJS:.o=.d) $(OBJ)/avatar.ld.d

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

build-force:

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

test: deps format-check check-includes check-docs
	$(MAKE) HV=0 all
	$(MAKE) HV=1 all
	@echo "  build/avatar.bin is the last mode built"
	@cmp $(B)/avatar.bin $(B)/avatar-el2.bin
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

# The layer rule of docs/architecture.md ("Layers"): an #include against it fails the build check.
check-includes:
	@echo "  include direction check"
	@python3 scripts/check_includes.py

# Every Markdown file the code and docs cite is in the repository (docs/design.md and friends).
check-docs:
	@echo "  documentation reference check"
	@python3 scripts/check_doc_refs.py

format-check:
	@echo "  clang-format check"
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(B)
