# The nested stock-kernel test bed (included by the top-level Makefile): `make check-nested` boots
# Debian's kernel as a guest of `vessel vmm` (and of QEMU -accel kvm for reference) inside a QEMU
# TCG guest with emulated AMD SVM. tests/run.sh runs tests/nested/run.sh as part of `make check`.
.PHONY: check-nested nested-bed
nested-bed: vm-assets
	./tests/nested/build-bed.sh

check-nested: all vm-assets
	./tests/nested/run.sh
