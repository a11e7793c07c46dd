# Guest assets for the micro-VM mode (included by the top-level Makefile).
# `make vm-assets` fills build/vm/ (layout in rootfs-tools/README.md); the Debian kernel package is
# cached in build/vm-pkg/ so that `make install` (which copies build/vm/.) does not ship it.
.PHONY: vm-assets
vm-assets: $(B)/vessel
	./rootfs-tools/vm-assets.sh --out $(B)/vm --vessel $(B)/vessel --cache $(B)/vm-pkg

# The VM-mode integration tests boot these assets.
CHECK_EXTRA += vm-assets
