/* libFuzzer target for the .mat reader. libmatio reads only named files, so the input is put in
 * an anonymous in-memory file (memfd_create) and read back through its /proc/self/fd path: no
 * temporary file is left behind even if the run is killed. Each input is read twice, once with
 * auto-detection and once with named variables, so both selection paths see hostile headers.
 * Seeds: tests/fuzz/corpus/mat (v4, v5, compressed v7, v7.3 files and truncated copies). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tl/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int fd = memfd_create("fuzz_mat", 0);
    if (fd < 0) return 0;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) {
            close(fd);
            return 0;
        }
        off += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    tl_dataset *ds = NULL;
    if (tl_read_mat(path, NULL, NULL, &ds) == TL_OK) tl_dataset_free(ds);
    ds = NULL;
    if (tl_read_mat(path, "X", "Y", &ds) == TL_OK) tl_dataset_free(ds);
    close(fd);
    return 0;
}
