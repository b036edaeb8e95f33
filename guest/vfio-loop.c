/*
 * vfio-loop: the guest's own VFIO user program, for the blocked-domain suites.
 *
 * The patch-7 bug (brief §1.3) needs a guest that moves a device out of its DMA domain into a
 * blocking domain while migration is active; the series' authors did it with "a user level app
 * that utilizes VFIO". Each cycle of this program claims one PCI function through the legacy
 * VFIO interface and lets it go again:
 *
 *   open /dev/vfio/vfio and /dev/vfio/<group>; GROUP_SET_CONTAINER (the kernel takes DMA
 *   ownership and attaches the group's blocking domain first: __iommu_take_dma_ownership);
 *   SET_IOMMU type1 (an unmanaged domain); GET_DEVICE_FD; MAP_DMA a buffer; UNMAP_DMA it; close
 *   everything (back through the blocking domain to the default domain).
 *
 * Under an emulated VT-d every one of those domain changes clears and rewrites the device's
 * context entry (intel_iommu_attach_device blocks translation first), which QEMU sees as a
 * context-cache invalidation. Only the group/container interface is used: the guest kernels of
 * the labs (Debian 6.1) have no IOMMUFD, so there is no cdev path here.
 *
 * usage: vfio-loop [-n CYCLES] [-s SECONDS] [-m MAP_KIB] BDF
 *   -n  cycles to run (default 100); -s  stop earlier after this many seconds (default none);
 *   -m  size of the DMA-mapped buffer in KiB (default 1024).
 * Output, one line each (parsed by harness/guest/runVfioLoop.ts; keep the wording):
 *   vfio-loop: cycle N: STEP: ERROR        for the first 20 failed steps
 *   vfio-loop: done cycles=N succeeded=S failed=F elapsed_ms=T group=G iova=0xI map_kib=K iommu=type1v2|type1
 * Successes and failures are counted apart (S + F = N): a verdict that needs the guest to have
 * moved its device through the blocking domain counts only cycles that got there and back.
 * Exit 0 when every cycle succeeded, 1 when some failed, 2 on bad usage or when the function
 * is not ready for VFIO (no IOMMU group, not bound to vfio-pci, group not viable).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Far from anything the guest maps itself, inside even a 39-bit VT-d address width. */
#define DMA_IOVA 0x10000000ULL
#define MAX_REPORTED_ERRORS 20

static int reported_errors;

static void report(long cycle, const char *step) {
  if (reported_errors++ < MAX_REPORTED_ERRORS) printf("vfio-loop: cycle %ld: %s: %s\n", cycle, step, strerror(errno));
}

static long parse_long(const char *text, const char *what, long min, long max) {
  char *end = NULL;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < min || value > max) {
    fprintf(stderr, "vfio-loop: %s must be %ld-%ld, got \"%s\"\n", what, min, max, text);
    exit(2);
  }
  return value;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* The last path component of a sysfs link, e.g. .../iommu_groups/7 -> "7". */
static int read_link_name(const char *path, char *out, size_t size) {
  char target[PATH_MAX];
  ssize_t n = readlink(path, target, sizeof target - 1);
  if (n < 0) return -1;
  target[n] = '\0';
  const char *slash = strrchr(target, '/');
  const char *name = slash == NULL ? target : slash + 1;
  if (strlen(name) >= size) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(out, name, strlen(name) + 1);
  return 0;
}

/* One claim-and-release of the function; returns 0 when every step worked. */
static int cycle_once(long cycle, const char *bdf, const char *group_path, unsigned long iommu_type, void *buffer, size_t size) {
  int status = -1;
  int device = -1;
  int is_attached = 0;
  int is_mapped = 0;
  int container = open("/dev/vfio/vfio", O_RDWR);
  if (container < 0) {
    report(cycle, "open /dev/vfio/vfio");
    return -1;
  }
  int group = open(group_path, O_RDWR);
  if (group < 0) {
    report(cycle, "open group");
    goto out;
  }
  struct vfio_group_status group_status = { .argsz = sizeof group_status };
  if (ioctl(group, VFIO_GROUP_GET_STATUS, &group_status) < 0) {
    report(cycle, "VFIO_GROUP_GET_STATUS");
    goto out;
  }
  if (!(group_status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
    errno = EBUSY;
    report(cycle, "group not viable");
    goto out;
  }
  if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0) {
    report(cycle, "VFIO_GROUP_SET_CONTAINER");
    goto out;
  }
  is_attached = 1;
  if (ioctl(container, VFIO_SET_IOMMU, iommu_type) < 0) {
    report(cycle, "VFIO_SET_IOMMU");
    goto out;
  }
  device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
  if (device < 0) {
    report(cycle, "VFIO_GROUP_GET_DEVICE_FD");
    goto out;
  }
  struct vfio_device_info info = { .argsz = sizeof info };
  if (ioctl(device, VFIO_DEVICE_GET_INFO, &info) < 0) {
    report(cycle, "VFIO_DEVICE_GET_INFO");
    goto out;
  }
  struct vfio_iommu_type1_dma_map map = {
    .argsz = sizeof map,
    .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
    .vaddr = (uint64_t)(uintptr_t)buffer,
    .iova = DMA_IOVA,
    .size = size,
  };
  if (ioctl(container, VFIO_IOMMU_MAP_DMA, &map) < 0) {
    report(cycle, "VFIO_IOMMU_MAP_DMA");
    goto out;
  }
  is_mapped = 1;
  struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof unmap, .iova = DMA_IOVA, .size = size };
  if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap) < 0) {
    report(cycle, "VFIO_IOMMU_UNMAP_DMA");
    goto out;
  }
  is_mapped = 0;
  status = 0;
out:
  if (is_mapped) {
    struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof unmap, .iova = DMA_IOVA, .size = size };
    if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap) < 0) report(cycle, "VFIO_IOMMU_UNMAP_DMA (cleanup)");
  }
  if (device >= 0) close(device);
  if (is_attached && ioctl(group, VFIO_GROUP_UNSET_CONTAINER) < 0) {
    report(cycle, "VFIO_GROUP_UNSET_CONTAINER");
    status = -1;
  }
  if (group >= 0) close(group);
  close(container);
  return status;
}

int main(int argc, char **argv) {
  long cycles = 100;
  long seconds = 0;
  long map_kib = 1024;
  int opt;
  while ((opt = getopt(argc, argv, "n:s:m:")) != -1) {
    switch (opt) {
      case 'n': cycles = parse_long(optarg, "-n CYCLES", 1, 1000000); break;
      case 's': seconds = parse_long(optarg, "-s SECONDS", 1, 86400); break;
      case 'm': map_kib = parse_long(optarg, "-m MAP_KIB", 4, 1048576); break;
      default:
        fprintf(stderr, "usage: %s [-n CYCLES] [-s SECONDS] [-m MAP_KIB] BDF\n", argv[0]);
        return 2;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "usage: %s [-n CYCLES] [-s SECONDS] [-m MAP_KIB] BDF\n", argv[0]);
    return 2;
  }
  const char *bdf = argv[optind];

  char path[PATH_MAX];
  char group_name[64];
  char driver[64] = "none";
  snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/iommu_group", bdf);
  if (read_link_name(path, group_name, sizeof group_name) < 0) {
    fprintf(stderr, "vfio-loop: %s has no IOMMU group (%s): is the guest's IOMMU on (intel_iommu=on)?\n", bdf, strerror(errno));
    return 2;
  }
  snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/driver", bdf);
  if (read_link_name(path, driver, sizeof driver) < 0 || strcmp(driver, "vfio-pci") != 0) {
    fprintf(stderr, "vfio-loop: %s is not bound to vfio-pci (driver: %s)\n", bdf, driver);
    return 2;
  }
  char group_path[PATH_MAX];
  snprintf(group_path, sizeof group_path, "/dev/vfio/%s", group_name);

  int probe = open("/dev/vfio/vfio", O_RDWR);
  if (probe < 0) {
    fprintf(stderr, "vfio-loop: open /dev/vfio/vfio: %s\n", strerror(errno));
    return 2;
  }
  if (ioctl(probe, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
    fprintf(stderr, "vfio-loop: unexpected VFIO API version\n");
    return 2;
  }
  /* type1v2 when the kernel has it: the variant QEMU and DPDK use. */
  unsigned long iommu_type = ioctl(probe, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0 ? VFIO_TYPE1v2_IOMMU : VFIO_TYPE1_IOMMU;
  close(probe);

  size_t size = (size_t)map_kib * 1024;
  void *buffer = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (buffer == MAP_FAILED) {
    fprintf(stderr, "vfio-loop: mmap %ld KiB: %s\n", map_kib, strerror(errno));
    return 2;
  }
  /* Touch every page so the pinning in MAP_DMA finds real memory. */
  memset(buffer, 0x5a, size);

  double started = now_ms();
  long done = 0;
  long succeeded = 0;
  long failed = 0;
  while (done < cycles && (seconds == 0 || now_ms() - started < (double)seconds * 1000.0)) {
    if (cycle_once(done + 1, bdf, group_path, iommu_type, buffer, size) == 0) {
      succeeded++;
    } else {
      failed++;
    }
    done++;
  }
  printf("vfio-loop: done cycles=%ld succeeded=%ld failed=%ld elapsed_ms=%.0f group=%s iova=0x%llx map_kib=%ld iommu=%s\n", done, succeeded, failed,
         now_ms() - started, group_name, DMA_IOVA, map_kib, iommu_type == VFIO_TYPE1v2_IOMMU ? "type1v2" : "type1");
  return failed == 0 && succeeded == done ? 0 : 1;
}
