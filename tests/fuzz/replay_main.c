/* Corpus replay driver: links a libFuzzer target (LLVMFuzzerTestOneInput) into an ordinary
 * program that feeds it every file of a corpus folder. `make test` runs this, so the corpus the
 * fuzzers grew is re-checked on every build without clang. A crash fails the test run. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    DIR *d = opendir(argv[1]);
    if (!d) {
        printf("0 passed, 1 failed, 0 skipped\n");
        fprintf(stderr, "cannot open corpus %s\n", argv[1]);
        return 1;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        fseek(f, 0, SEEK_SET);
        if (len < 0) { fclose(f); continue; }
        uint8_t *buf = malloc((size_t)len + 1);
        if (!buf) { fclose(f); return 1; }
        size_t got = fread(buf, 1, (size_t)len, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, got);
        free(buf);
        n++;
    }
    closedir(d);
    /* reaching here means no input crashed; each file is one passed case */
    printf("%d passed, 0 failed, 0 skipped\n", n);
    return 0;
}
