/* Minimal test harness: CHECK records a failure and carries on; the summary line is the plain
 * "N passed, N failed" that CI reads. */
#ifndef TSCB_TEST_CHECK_H
#define TSCB_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int checks_passed;
static int checks_failed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) {                                                                  \
            checks_passed++;                                                         \
        } else {                                                                     \
            checks_failed++;                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_STR(actual, expected)                                                             \
    do {                                                                                        \
        const char *a_ = (actual);                                                              \
        const char *e_ = (expected);                                                            \
        if (a_ != NULL && e_ != NULL && strcmp(a_, e_) == 0) {                                  \
            checks_passed++;                                                                    \
        } else {                                                                                \
            checks_failed++;                                                                    \
            fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #actual, \
                    a_ ? a_ : "(null)", e_ ? e_ : "(null)");                                    \
        }                                                                                       \
    } while (0)

static int check_summary(const char *suite) {
    printf("%s: %d passed, %d failed\n", suite, checks_passed, checks_failed);
    return checks_failed == 0 ? 0 : 1;
}

#endif
