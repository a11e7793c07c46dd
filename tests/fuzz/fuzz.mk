# libFuzzer targets for the parsers of untrusted input (not part of `make check`):
#   make fuzz && build/fuzz/fuzz_spec -max_total_time=300 tests/fuzz/corpus/spec
# fuzz_spec/fuzz_state: OCI JSON; fuzz_protocol: the vessel.ctl stream reader;
# fuzz_virtqueue: split virtqueues and the virtio-mmio registers over fake guest RAM;
# fuzz_boot: the ELF vmlinux / bzImage loaders into fake guest RAM (no KVM needed).
FUZZ_CC ?= clang
FUZZ_CFLAGS := -std=gnu11 -g -O1 -I. $(PKG_CFLAGS) -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(B)/fuzz/%)

# Library sources each target links (compiled with the sanitizers, not from libvessel.a).
FUZZ_COMMON := common/error.c common/fs.c
FUZZ_LIBS_fuzz_spec := $(wildcard oci/*.c) $(FUZZ_COMMON)
FUZZ_LIBS_fuzz_state := $(wildcard oci/*.c) $(FUZZ_COMMON)
FUZZ_LIBS_fuzz_protocol := microvm/protocol.c $(FUZZ_COMMON)
FUZZ_LIBS_fuzz_virtqueue := microvm/virtqueue.c microvm/virtio_mmio.c $(FUZZ_COMMON)
FUZZ_LIBS_fuzz_boot := microvm/boot.c microvm/boot_params.c microvm/memory.c $(FUZZ_COMMON)

fuzz: $(FUZZ_BINS)

define FUZZ_RULE
$(B)/fuzz/$(1): tests/fuzz/$(1).c $$(FUZZ_LIBS_$(1)) $$(wildcard oci/*.h common/*.h microvm/*.h)
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) -o $$@ $$< $$(FUZZ_LIBS_$(1)) $$(PKG_LIBS) -lpthread
endef
$(foreach t,$(FUZZ_SRCS:tests/fuzz/%.c=%),$(eval $(call FUZZ_RULE,$(t))))
