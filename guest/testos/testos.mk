# testos.mk - builds TestOS, the guest OS Avatar runs and benchmarks (included by the top Makefile).
#   $(B)/guests/testos/testos.bin         device-tree build (make TESTOS_NIMBOS=1: NimbOS-like)
#   $(B)/guests/testos/testos-nimbos.bin  NimbOS-like build, always
# Both are raw arm64 Images linked at 0x40080000, with .elf files beside them for gdb.

TESTOS_NIMBOS ?= 0
TESTOS_DIR    := guest/testos
TESTOS_OUT    := $(B)/guests/testos
TESTOS_SRCS   := $(wildcard $(TESTOS_DIR)/*.c $(TESTOS_DIR)/*.S)
TESTOS_CFLAGS := -std=c11 -ffreestanding -nostdlib -fno-builtin -fno-stack-protector -fno-pie \
	-fno-omit-frame-pointer $(GCCONLY) -mgeneral-regs-only -mstrict-align -mno-outline-atomics \
	-march=armv8-a -mbranch-protection=none -g -O2 -Wall -Wextra -Werror -MMD -MP \
	-Iinclude # lib/virtio.h: the register offsets Avatar's driver and device model use
TESTOS_LDFLAGS := -nostdlib -static $(if $(filter 1,$(CLANG)),-fuse-ld=bfd,-no-pie) \
	-Wl,--build-id=none -Wl,-z,max-page-size=4096 -Wl,--no-warn-rwx-segments \
	-T $(TESTOS_DIR)/testos.ld

# One object directory per variant: dtb (plain) and nimbos (-DTESTOS_NIMBOS).
TESTOS_OBJS_dtb    := $(patsubst $(TESTOS_DIR)/%,$(TESTOS_OUT)/dtb/%.o,$(TESTOS_SRCS))
TESTOS_OBJS_nimbos := $(patsubst $(TESTOS_DIR)/%,$(TESTOS_OUT)/nimbos/%.o,$(TESTOS_SRCS))
TESTOS_DEFS_dtb    :=
TESTOS_DEFS_nimbos := -DTESTOS_NIMBOS
TESTOS_MAIN        := $(if $(filter 1,$(TESTOS_NIMBOS)),nimbos,dtb)

GUEST_BINS += $(TESTOS_OUT)/testos.bin $(TESTOS_OUT)/testos-nimbos.bin
all: $(GUEST_BINS)

# The compiler and flags the objects were built with (CLANG= changes them): a change recompiles.
$(TESTOS_OUT)/flags: build-force
	$(call MARKER,$(CC) $(TESTOS_CFLAGS))

define TESTOS_VARIANT
$(TESTOS_OUT)/$(1)/%.c.o: $(TESTOS_DIR)/%.c $(TESTOS_OUT)/flags
	@mkdir -p $$(dir $$@)
	@echo "  CC      testos-$(1)/$$*.c"
	$(Q)$(CC) $(TESTOS_CFLAGS) $(TESTOS_DEFS_$(1)) -c $$< -o $$@

$(TESTOS_OUT)/$(1)/%.S.o: $(TESTOS_DIR)/%.S $(TESTOS_OUT)/flags
	@mkdir -p $$(dir $$@)
	@echo "  AS      testos-$(1)/$$*.S"
	$(Q)$(CC) $(TESTOS_CFLAGS) $(TESTOS_DEFS_$(1)) -c $$< -o $$@

$(TESTOS_OUT)/$(1)/testos.elf: $(TESTOS_OBJS_$(1)) $(TESTOS_DIR)/testos.ld
	@echo "  LD      $$@"
	$(Q)$(CC) $(TESTOS_CFLAGS) $(TESTOS_LDFLAGS) $(TESTOS_OBJS_$(1)) -o $$@
endef
$(eval $(call TESTOS_VARIANT,dtb))
$(eval $(call TESTOS_VARIANT,nimbos))

# testos.elf follows TESTOS_NIMBOS: the marker changes (and forces a copy) when the choice does.
$(TESTOS_OUT)/variant: testos-force
	@mkdir -p $(dir $@)
	@echo $(TESTOS_MAIN) | cmp -s - $@ || echo $(TESTOS_MAIN) > $@
$(TESTOS_OUT)/testos.elf: $(TESTOS_OUT)/$(TESTOS_MAIN)/testos.elf $(TESTOS_OUT)/variant
	$(Q)cp $< $@
$(TESTOS_OUT)/testos-nimbos.elf: $(TESTOS_OUT)/nimbos/testos.elf
	$(Q)cp $< $@
$(TESTOS_OUT)/%.bin: $(TESTOS_OUT)/%.elf
	$(Q)$(OBJCOPY) -O binary $< $@

.PHONY: testos-force
testos-force:

-include $(TESTOS_OBJS_dtb:.o=.d) $(TESTOS_OBJS_nimbos:.o=.d)
