/* The test credentials, read from the running simulator's banner (tests/sim.sh exports its file
 * as TSCB_SIM_BANNER): they are written once, in tscb-sim. A header of its own so that a test
 * that needs no admin request (test_log.c, test_tls.c) has no unused helpers of sim_admin.h.
 * Compiles as C++ too (the casts), for tests/cpp/. */
#ifndef TSCB_TEST_SIM_BANNER_H
#define TSCB_TEST_SIM_BANNER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value of the simulator's banner line "LABEL: value" (e.g. "bearer token"), from the file
 * TSCB_SIM_BANNER: the test credentials are written once, in tscb-sim. Kept for the whole run. */
static const char *sim_credential(const char *label) {
    static char *found[16];
    static char labels[16][32];
    for (int i = 0; i < 16 && found[i] != NULL; i++) {
        if (strcmp(labels[i], label) == 0) return found[i];
    }
    const char *path = getenv("TSCB_SIM_BANNER");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (f == NULL) {
        fprintf(stderr, "TSCB_SIM_BANNER is not set or not readable: run the C tests through tests/c/run.sh\n");
        exit(2);
    }
    char line[512];
    size_t n = strlen(label);
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, label, n) == 0 && line[n] == ':' && line[n + 1] == ' ') {
            line[strcspn(line, "\r\n")] = '\0';
            int i = 0;
            while (i < 15 && found[i] != NULL) i++;
            snprintf(labels[i], sizeof labels[i], "%s", label);
            found[i] = strdup(line + n + 2);
            fclose(f);
            return found[i];
        }
    }
    fclose(f);
    fprintf(stderr, "the simulator's banner has no line \"%s: ...\"\n", label);
    exit(2);
}

#endif
