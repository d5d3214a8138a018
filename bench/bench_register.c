/* One round of tscb_register_callback calls through the C ABI: prints the mean microseconds per
 * call. bench/run.sh alternates it with the same round through the Rust API
 * (core/examples/bench_calls.rs) against one tscb-sim, and reports the ratio. The tokens come from
 * THINGSPACE_BEARER_TOKEN and THINGSPACE_SESSION_TOKEN, which run.sh takes from the simulator's
 * banner: they are written once, in tscb-sim. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <tscb.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int call(const tscb_client *client) {
    tscb_callback_ack *ack = NULL;
    tscb_result r = tscb_register_callback(client, "TestAccount-2", "CarrierService",
                                           "https://listener.example.com/thingspace", "fleet-7", "pw", &ack, NULL);
    tscb_callback_ack_free(ack);
    return r == TSCB_OK ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s BASE_URL CALLS\n", argv[0]);
        return 2;
    }
    int calls = atoi(argv[2]);
    const char *bearer = getenv("THINGSPACE_BEARER_TOKEN");
    const char *session = getenv("THINGSPACE_SESSION_TOKEN");
    if (bearer == NULL || session == NULL) {
        fprintf(stderr, "%s: set THINGSPACE_BEARER_TOKEN and THINGSPACE_SESSION_TOKEN (bench/run.sh does)\n", argv[0]);
        return 2;
    }
    tscb_client_builder *b = tscb_client_builder_new();
    tscb_client_builder_set_base_url(b, argv[1]);
    tscb_client_builder_set_bearer_token(b, bearer);
    tscb_client_builder_set_session_token(b, session);
    tscb_client *client = NULL;
    if (tscb_client_builder_build(b, &client, NULL) != TSCB_OK) return 1;
    int failures = 0;
    for (int i = 0; i < calls / 4; i++) failures += call(client); /* warm-up */
    double started = now();
    for (int i = 0; i < calls; i++) failures += call(client);
    double elapsed = now() - started;
    tscb_client_free(client);
    if (failures) {
        fprintf(stderr, "%d calls failed\n", failures);
        return 1;
    }
    printf("%.3f\n", elapsed * 1e6 / calls);
    return 0;
}
