# vessel: OCI runtime with container and micro-VM isolation.
# `make` builds build/vessel; `make check` runs every test; `make demo` shows it off.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib/vessel
MANDIR ?= $(PREFIX)/share/man
VERSION := 0.1.0
B := build

CC ?= gcc
PKGS := libseccomp libcap yajl libmnl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARNINGS := -Wall -Wextra -Werror -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
	-Wold-style-definition -Wshadow -Wundef -Wwrite-strings -Wvla
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(WARNINGS) -I. $(PKG_CFLAGS) -D_GNU_SOURCE -DVESSEL_VERSION='"$(VERSION)"' \
	-fstack-protector-strong -D_FORTIFY_SOURCE=2 -MMD -MP $(CFLAGS)
LDLIBS := $(PKG_LIBS) -lpthread

LIB_DIRS := common oci namespaces cgroups runtime microvm
LIB_SRCS := $(filter-out runtime/main.c,$(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)

.PHONY: all check unit demo deps install uninstall clean fuzz man
all: $(B)/vessel

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/libvessel.a: $(LIB_OBJS)
	@mkdir -p $(B)
	rm -f $@ && ar rcs $@ $^

$(B)/vessel: $(B)/obj/runtime/main.o $(B)/libvessel.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libvessel.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/libvessel.a $(LDLIBS) -lcmocka

unit: $(UNIT_BINS)

# Feature fragments own their targets (test guest, nested test bed, guest assets, docs).
-include tests/guest/guest.mk
-include tests/nested/nested.mk
-include rootfs-tools/rootfs-tools.mk
-include man/man.mk
-include tests/fuzz/fuzz.mk

# Debian packages the build, the tests and the demo need; cheap when all are present.
DEB_PKGS := build-essential pkg-config libseccomp-dev libcap-dev libyajl-dev libmnl-dev \
	libcmocka-dev bats bats-assert bats-support busybox-static crun runc qemu-system-x86 \
	e2fsprogs acpica-tools go-md2man hyperfine cpio iproute2 procps util-linux kmod \
	time python3 file xz-utils zstd binutils
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
		| grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

check: deps
	$(MAKE) all unit $(CHECK_EXTRA)
	./tests/run.sh

demo: deps
	$(MAKE) all
	./rootfs-tools/demo.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)
	install -m 0755 $(B)/vessel $(DESTDIR)$(BINDIR)/vessel
	ln -sf vessel $(DESTDIR)$(BINDIR)/vessel-vm
	if [ -d $(B)/vm ]; then cp -r $(B)/vm/. $(DESTDIR)$(LIBDIR)/; fi
	$(MAKE) install-man

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/vessel $(DESTDIR)$(BINDIR)/vessel-vm
	rm -rf $(DESTDIR)$(LIBDIR)

clean:
	rm -rf $(B)

-include $(LIB_OBJS:.o=.d) $(B)/obj/runtime/main.d
