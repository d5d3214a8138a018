/* Register a ThingSpace callback listener from C.
 *
 *   cc register.c $(pkg-config --cflags --libs tscb) -o register
 *   THINGSPACE_BASE_URL=http://127.0.0.1:9000/api THINGSPACE_BEARER_TOKEN=sim-bearer-token \
 *   THINGSPACE_SESSION_TOKEN=sim-session-token ./register TestAccount-2 CarrierService https://listener.example.com/cb
 *
 * The tokens are the ones tscb-sim prints at start ("bearer token: ...", "session token: ..."); the
 * program reads them from the environment, never from its source. Leave THINGSPACE_BASE_URL unset
 * for production. Exit status: 0 registered, 1 refused or failed, 2 usage. */
#include <stdio.h>
#include <stdlib.h>

#include <tscb.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s ACCOUNT SERVICE URL\n", argv[0]);
        return 2;
    }
    const char *base_url = getenv("THINGSPACE_BASE_URL");
    const char *bearer = getenv("THINGSPACE_BEARER_TOKEN");
    const char *session = getenv("THINGSPACE_SESSION_TOKEN");

    tscb_client_builder *builder = tscb_client_builder_new();
    tscb_result set = TSCB_OK;
    if (base_url != NULL) set = tscb_client_builder_set_base_url(builder, base_url);
    /* Missing tokens are reported by tscb_client_builder_build() with a clear error. */
    if (set == TSCB_OK && bearer != NULL) set = tscb_client_builder_set_bearer_token(builder, bearer);
    if (set == TSCB_OK && session != NULL) set = tscb_client_builder_set_session_token(builder, session);
    if (set != TSCB_OK) { /* e.g. a variable that is not UTF-8: never fall back to a default */
        fprintf(stderr, "configuration error: %s\n", tscb_result_str(set));
        tscb_client_builder_free(builder);
        return 1;
    }

    tscb_client *client = NULL;
    tscb_error *err = NULL;
    if (tscb_client_builder_build(builder, &client, &err) != TSCB_OK) { /* consumes the builder */
        fprintf(stderr, "configuration error: %s: %s\n", tscb_error_code(err), tscb_error_message(err));
        tscb_error_free(err);
        return 1;
    }

    tscb_callback_ack *ack = NULL;
    tscb_result result = tscb_register_callback(client, argv[1], argv[2], argv[3],
                                                NULL /* username */, NULL /* password */, &ack, &err);
    int status = 0;
    if (result == TSCB_OK) {
        printf("registered %s for account %s\n", tscb_callback_ack_service_name(ack),
               tscb_callback_ack_account_name(ack));
        tscb_callback_ack_free(ack);
    } else {
        char *json = tscb_error_to_json(err);
        uint16_t http_status = tscb_error_http_status(err); /* 0: no answer (or nothing was sent) */
        if (http_status != 0) {
            fprintf(stderr, "%s (HTTP status %u): %s\n", tscb_result_str(result), (unsigned)http_status, json);
        } else {
            fprintf(stderr, "%s: %s\n", tscb_result_str(result), json);
        }
        tscb_string_free(json);
        tscb_error_free(err);
        status = 1;
    }
    tscb_client_free(client);
    return status;
}
