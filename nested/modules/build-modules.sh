#!/bin/sh
# Runs inside the nested lab's build chroot (Debian trixie with linux-source-6.12 and the matching
# linux-headers). Rebuilds the VFIO/IOMMUFD stack and the mtty sample out of tree with the options
# Debian's kernel leaves off: IOMMUFD (=m), VFIO_DEVICE_CDEV and IOMMUFD_DRIVER. The only vmlinux
# symbols IOMMUFD needs that Debian's kernel lacks are the interval-tree span iterators
# (INTERVAL_TREE_SPAN_ITER): they are compiled into iommufd.ko.
#
# usage: build-modules.sh <kernel release> <kbuild folder> <output folder>
set -eu
release=$1
kbuild=$2
out=$3
src=/usr/src/linux-source-6.12
work=/var/tmp/vfio-hil-modules

[ -d "/usr/src/linux-headers-$release" ] || { echo "no headers for $release in /usr/src" >&2; exit 1; }
rm -rf "$src" "$work" "$out"
mkdir -p "$work" "$out"
# Only the folders we compile: unpacking the whole source tree costs minutes under xz.
tar -C /usr/src -xJf /usr/src/linux-source-6.12.tar.xz \
  linux-source-6.12/drivers/vfio linux-source-6.12/drivers/iommu/iommufd \
  linux-source-6.12/samples/vfio-mdev linux-source-6.12/lib/interval_tree.c \
  --wildcards 'linux-source-6.12/drivers/iommu/*.h'

# Kernel-relative layout: iommufd includes "../iommu-priv.h".
mkdir -p "$work/drivers/iommu" "$work/drivers/vfio/pci" "$work/samples/mtty"
cp -r "$src/drivers/iommu/iommufd" "$work/drivers/iommu/"
cp "$src"/drivers/iommu/*.h "$work/drivers/iommu/"
cp "$src"/drivers/vfio/*.c "$src"/drivers/vfio/*.h "$work/drivers/vfio/"
cp -r "$src/drivers/vfio/mdev" "$work/drivers/vfio/"
cp "$src"/drivers/vfio/pci/*.c "$src"/drivers/vfio/pci/*.h "$work/drivers/vfio/pci/"
cp "$src/samples/vfio-mdev/mtty.c" "$work/samples/mtty/"
rm -f "$work/drivers/iommu/iommufd/Makefile" "$work/drivers/vfio/mdev/Makefile"

# The span iterators, without their exports: only iommufd.ko calls them.
{
  echo '#include <linux/interval_tree.h>'
  echo '#include <linux/interval_tree_generic.h>'
  sed -n '/^#ifdef CONFIG_INTERVAL_TREE_SPAN_ITER/,/^#endif/p' "$src/lib/interval_tree.c" | sed '1d;$d' | grep -v '^EXPORT_SYMBOL'
} > "$work/drivers/iommu/iommufd/interval_tree_span.c"

cp "$kbuild/top.Kbuild" "$work/Kbuild"
cp "$kbuild/iommufd.Kbuild" "$work/drivers/iommu/iommufd/Kbuild"
cp "$kbuild/vfio.Kbuild" "$work/drivers/vfio/Kbuild"
cp "$kbuild/vfio-pci.Kbuild" "$work/drivers/vfio/pci/Kbuild"
cp "$kbuild/mdev.Kbuild" "$work/drivers/vfio/mdev/Kbuild"
cp "$kbuild/mtty.Kbuild" "$work/samples/mtty/Kbuild"

make -s -j"$(nproc)" -C "/usr/src/linux-headers-$release" M="$work" modules
for ko in $(cd "$work" && find . -name '*.ko'); do cp "$work/$ko" "$out/"; done
ls "$out"
