# libFuzzer targets for the JSON parsers (not part of `make check`):
#   make fuzz && build/fuzz/fuzz_spec -max_total_time=300 tests/fuzz/corpus/spec
FUZZ_CC ?= clang
FUZZ_LIB_SRCS := $(wildcard oci/*.c) common/error.c common/fs.c
FUZZ_CFLAGS := -std=gnu11 -g -O1 -I. $(PKG_CFLAGS) -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(B)/fuzz/%)

fuzz: $(FUZZ_BINS)

$(B)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRCS) $(wildcard oci/*.h common/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_SRCS) $(PKG_LIBS)
