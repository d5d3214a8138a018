/* A client used before fork() keeps working in the parent and in every child at once (a C
 * daemon that forks workers), and a child that frees its copy at once leaves the parent's client
 * working: what a C user relies on, through the C API. That each process sends on connections of
 * its own, and each call ends within its call timeout, is core's experiment (core/tests/fork.rs).
 * Not run under valgrind: a child leaks the engines it inherited from the parent on purpose
 * (they share the parent's epoll instance and sockets), which valgrind reports as lost. */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <tscb.h>

#include "check.h"
#include "sim_admin.h"

#define CHILDREN 3
#define CALLS 10
#define CALL_TIMEOUT_MS 5000
/* The children may take this long altogether before they are killed. */
#define CHILDREN_BOUND_S 90

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

static void account(int process, char *out, size_t size) {
    snprintf(out, size, "Fork-%d", process);
}

/* CALLS calls as `process`: 0 if all succeeded, 1 an error. */
static int calls(const tscb_client *client, int process) {
    char name[32];
    account(process, name, sizeof name);
    for (int n = 0; n < CALLS; n++) {
        double start = now_ms();
        tscb_callback_list *list = NULL;
        tscb_error *err = NULL;
        tscb_result r = tscb_list_callbacks(client, name, &list, &err);
        double took = now_ms() - start;
        if (r != TSCB_OK) {
            fprintf(stderr, "process %d (%d), call %d: %s after %.0f ms\n", process, (int)getpid(), n,
                    err ? tscb_error_message(err) : "?", took);
            tscb_error_free(err);
            return 1;
        }
        tscb_callback_list_free(list);
    }
    return 0;
}

int main(void) {
    for (int process = 0; process <= CHILDREN; process++) {
        char body[64];
        snprintf(body, sizeof body, "{\"name\": \"Fork-%d\"}", process);
        CHECK(sim_admin("POST", "/__admin/accounts", body, NULL) == 204);
    }
    sim_reset();

    tscb_client_builder *b = tscb_client_builder_new();
    CHECK(tscb_client_builder_set_base_url(b, sim_url()) == TSCB_OK);
    CHECK(tscb_client_builder_set_bearer_token(b, sim_credential("bearer token")) == TSCB_OK);
    CHECK(tscb_client_builder_set_session_token(b, sim_credential("session token")) == TSCB_OK);
    CHECK(tscb_client_builder_set_call_timeout_ms(b, CALL_TIMEOUT_MS) == TSCB_OK);
    tscb_client *client = NULL;
    if (tscb_client_builder_build(b, &client, NULL) != TSCB_OK) {
        fprintf(stderr, "the client did not build\n");
        return 1;
    }
    /* Used before the fork: a connection is open and pooled. */
    tscb_callback_list *list = NULL;
    CHECK(tscb_list_callbacks(client, "Fork-0", &list, NULL) == TSCB_OK);
    tscb_callback_list_free(list);

    /* A worker that frees its copy at once must leave the parent's client working (freeing the
     * inherited engines normally took the parent's sockets out of its epoll instance). */
    pid_t closer = fork();
    if (closer == 0) {
        tscb_client_free(client);
        _exit(0);
    }
    int closer_status = -1;
    CHECK(closer > 0 && waitpid(closer, &closer_status, 0) == closer);
    CHECK(WIFEXITED(closer_status) && WEXITSTATUS(closer_status) == 0);

    /* The last resort if the parent's own calls hang. */
    alarm(CHILDREN_BOUND_S + 30);
    int start[2];
    if (pipe(start) != 0) return 1;
    pid_t children[CHILDREN + 1];
    for (int process = 1; process <= CHILDREN; process++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            /* Wait until every process is forked; leave without the parent's atexit handlers. */
            alarm(CHILDREN_BOUND_S);
            close(start[1]);
            char byte;
            (void)!read(start[0], &byte, 1);
            _exit(calls(client, process));
        }
        children[process] = pid;
    }
    close(start[0]);
    close(start[1]);
    CHECK(calls(client, 0) == 0);

    double bound = now_ms() + CHILDREN_BOUND_S * 1000.0;
    for (int process = 1; process <= CHILDREN; process++) {
        int status = 0;
        while (waitpid(children[process], &status, WNOHANG) == 0) {
            if (now_ms() > bound) {
                fprintf(stderr, "child %d still running after %d s: killed\n", process, CHILDREN_BOUND_S);
                kill(children[process], SIGKILL);
                waitpid(children[process], &status, 0);
                break;
            }
            nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
        }
        if (WIFSIGNALED(status)) fprintf(stderr, "child %d died of signal %d\n", process, WTERMSIG(status));
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }

    /* Every call arrived once: the parent's before the fork and its CALLS, each child's CALLS. */
    CHECK(sim_request_count() == 1 + CALLS * (CHILDREN + 1));
    CHECK(sim_count_path("/callbacks/Fork-0") == 1 + CALLS);
    for (int process = 1; process <= CHILDREN; process++) {
        char path[32];
        snprintf(path, sizeof path, "/callbacks/Fork-%d", process);
        CHECK(sim_count_path(path) == CALLS);
    }
    tscb_client_free(client);
    return check_summary("test_fork");
}
