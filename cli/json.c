/* --json output of the `tl` command: the library's JSON builder (tl/json.h) does the writing;
 * this prints the finished object on stdout in one write, or says it ran out of memory. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int cli_json_finish(tl_json *j) {
    char *s = NULL;
    if (tl_json_end(j, &s) != TL_OK) {
        fprintf(stderr, "tl %s: out of memory writing JSON\n", cli_cmd_name);
        return 1;
    }
    int rc = cli_print_text(s, true);
    tl_free(s);
    return rc;
}

int cli_print_text(const char *s, bool newline) {
    fputs(s, stdout);
    if (newline) fputc('\n', stdout);
    return fflush(stdout) != 0;
}
