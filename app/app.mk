# app.mk - user programs (app/*.c, one program each, plus app/lib/*.c in all of them), linked
# statically against Debian's musl (musl-dev:arm64), and the table that embeds them in the kernel.
MUSL := /usr/lib/aarch64-linux-musl
APP_CC := $(CROSS)gcc -specs $(MUSL)/musl-gcc.specs
APP_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Iapp/include -static -s \
	-Wl,-z,max-page-size=4096 -Wl,--build-id=none
APP_LIB_SRCS := $(wildcard app/lib/*.c)
APPS := $(patsubst app/%.c,$(B)/app/%,$(wildcard app/*.c))

.PHONY: apps
apps: $(APPS)

$(B)/app/%: app/%.c $(APP_LIB_SRCS) $(wildcard app/include/*.h) app/app.mk
	@test -f $(MUSL)/libc.a || { echo "musl-dev:arm64 is missing: run 'make deps'"; exit 1; }
	@mkdir -p $(dir $@)
	@echo "  APP     $@"
	$(Q)$(APP_CC) $(APP_CFLAGS) $< $(APP_LIB_SRCS) -o $@

# Every program is also linked into the EL1 kernel (kernel/exec.c: programs_embedded).
$(OBJ)/programs.S: $(APPS) app/embed.sh
	@mkdir -p $(dir $@)
	$(Q)sh app/embed.sh $@ $(APPS)

$(OBJ)/programs.o: $(OBJ)/programs.S
	@echo "  AS      $(MODE)/programs.S"
	$(Q)$(CC) $(ASFLAGS) -c $< -o $@
