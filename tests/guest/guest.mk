# The freestanding test guest (build/test-guest.elf) and its host-side helper
# (build/tests/guest-ctl-peer); `make check` builds both, tests/guest/run.sh runs them.
GUEST_CC ?= $(CC)
GUEST_SRCS := tests/guest/head.S tests/guest/lib.c tests/guest/acpi.c tests/guest/vdrv.c \
	tests/guest/cases.c tests/guest/hostile.c tests/guest/main.c
GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-address-of-packed-member -m64 \
	-ffreestanding -fno-builtin -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-exceptions -mcmodel=small
GUEST_LDFLAGS := -nostdlib -static -Wl,-T,tests/guest/guest.ld -Wl,--build-id=none \
	-Wl,-z,noexecstack -Wl,-z,max-page-size=4096 -Wl,--no-warn-rwx-segments

.PHONY: test-guest
test-guest: $(B)/test-guest.elf $(B)/tests/guest-ctl-peer
CHECK_EXTRA += test-guest

$(B)/test-guest.elf: $(GUEST_SRCS) $(wildcard tests/guest/*.h) tests/guest/guest.ld
	@mkdir -p $(B)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $(GUEST_SRCS)

$(B)/tests/guest-ctl-peer: tests/guest/ctl_peer.c
	@mkdir -p $(B)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $<
