/* tscb_set_log_callback against the tscb-sim binary (TSCB_SIM_URL): requests at
 * TSCB_LOG_DEBUG, decisions at TSCB_LOG_INFO, levels honoured, never a secret. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tscb.h>

#include "check.h"
#include "sim_banner.h"

#define ACCOUNT "TestAccount-2"

static char seen[16384];
static int records;
static int debug_records;

static void collect(void *user_data, tscb_log_level level, const char *message) {
    CHECK(user_data == (void *)&records);
    records++;
    if (level == TSCB_LOG_DEBUG) {
        debug_records++;
    }
    size_t used = strlen(seen);
    snprintf(seen + used, sizeof seen - used, "%u %s\n", level, message);
}

static tscb_client *signing_in(void) {
    const char *url = getenv("TSCB_SIM_URL");
    if (url == NULL) {
        fprintf(stderr, "TSCB_SIM_URL is not set: run tests/c/run.sh\n");
        exit(2);
    }
    tscb_client_builder *b = tscb_client_builder_new();
    CHECK(tscb_client_builder_set_base_url(b, url) == TSCB_OK);
    CHECK(tscb_client_builder_set_credentials(b, sim_credential("client id"), sim_credential("client secret"),
                                              sim_credential("login username"), sim_credential("login password")) ==
          TSCB_OK);
    tscb_client *client = NULL;
    CHECK(tscb_client_builder_build(b, &client, NULL) == TSCB_OK);
    return client;
}

static void list_once(tscb_client *client) {
    tscb_callback_list *list = NULL;
    CHECK(tscb_list_callbacks(client, ACCOUNT, &list, NULL) == TSCB_OK);
    tscb_callback_list_free(list);
}

int main(void) {
    CHECK(tscb_set_log_callback(collect, &records, TSCB_LOG_DEBUG) == TSCB_OK);
    tscb_client *client = signing_in();
    list_once(client);
    CHECK(strstr(seen, "3 fetching an OAuth token\n") != NULL);
    CHECK(strstr(seen, "3 logging in (session login)\n") != NULL);
    CHECK(strstr(seen, "4 POST /api/m2m/v1/session/login -> 200 in ") != NULL);
    CHECK(strstr(seen, "4 GET /api/m2m/v1/callbacks/" ACCOUNT " -> 200 in ") != NULL);
    const char *secrets[] = {sim_credential("client secret"), sim_credential("login password"),
                             sim_credential("bearer token"), sim_credential("session token")};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        CHECK(strstr(seen, secrets[i]) == NULL);
    }
    tscb_client_free(client);

    /* INFO: decisions only. */
    seen[0] = '\0';
    debug_records = 0;
    CHECK(tscb_set_log_callback(collect, &records, TSCB_LOG_INFO) == TSCB_OK);
    client = signing_in();
    list_once(client);
    CHECK(strstr(seen, "3 logging in (session login)\n") != NULL);
    CHECK(debug_records == 0);

    /* Off: nothing more. */
    int before = records;
    CHECK(tscb_set_log_callback(NULL, NULL, TSCB_LOG_DEBUG) == TSCB_OK);
    list_once(client);
    CHECK(tscb_set_log_callback(collect, &records, TSCB_LOG_OFF) == TSCB_OK);
    list_once(client);
    CHECK(records == before);
    CHECK(tscb_set_log_callback(collect, &records, 7) == TSCB_ERR_INVALID_INPUT);
    tscb_client_free(client);
    return check_summary("tscb_c_log");
}
