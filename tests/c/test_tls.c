/* The C API over HTTPS and through a proxy: a tscb-sim --tls (TSCB_SIM_TLS_URL, its CA in
 * TSCB_SIM_CA_FILE), an open CONNECT proxy (TSCB_PROXY_URL) and one that demands credentials
 * "carol:pr0xy-pw" (TSCB_PROXY_AUTH_URL) and one that answers every CONNECT 403
 * (TSCB_PROXY_REFUSE_URL), all started by tests/c/run.sh. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tscb.h>

#include "check.h"
#include "sim_banner.h"

#define ACCOUNT "TestAccount-2"
#define LISTENER "https://listener.example.com/thingspace"

static const char *need(const char *name) {
    const char *value = getenv(name);
    if (value == NULL || *value == '\0') {
        fprintf(stderr, "%s is not set: run tests/c/run.sh\n", name);
        exit(2);
    }
    return value;
}

/* A builder for the TLS simulator with fixed tokens, trusting `ca` (NULL: nothing extra), going
 * through `proxy` (NULL: none). */
static tscb_client_builder *builder_for(const char *ca, const char *proxy) {
    tscb_client_builder *b = tscb_client_builder_new();
    CHECK(tscb_client_builder_set_base_url(b, need("TSCB_SIM_TLS_URL")) == TSCB_OK);
    CHECK(tscb_client_builder_set_bearer_token(b, sim_credential("bearer token")) == TSCB_OK);
    CHECK(tscb_client_builder_set_session_token(b, sim_credential("session token")) == TSCB_OK);
    CHECK(tscb_client_builder_set_max_retries(b, 0) == TSCB_OK);
    if (ca != NULL) {
        CHECK(tscb_client_builder_add_ca_file(b, ca) == TSCB_OK);
    }
    CHECK(tscb_client_builder_set_proxy(b, proxy) == TSCB_OK);
    return b;
}

static tscb_client *build(tscb_client_builder *b) {
    tscb_client *client = NULL;
    tscb_error *err = NULL;
    if (tscb_client_builder_build(b, &client, &err) != TSCB_OK) {
        fprintf(stderr, "build failed: %s\n", tscb_error_message(err));
        tscb_error_free(err);
        exit(1);
    }
    return client;
}

/* Lists once and returns the result; `*code_out` gets a copy of the error code (or "") and
 * `*message_out` of the message. */
static tscb_result list_once(tscb_client *client, char *code_out, char *message_out, size_t size) {
    tscb_callback_list *list = NULL;
    tscb_error *err = NULL;
    tscb_result r = tscb_list_callbacks(client, ACCOUNT, &list, &err);
    code_out[0] = message_out[0] = '\0';
    if (r == TSCB_OK) {
        tscb_callback_list_free(list);
    } else {
        snprintf(code_out, size, "%s", tscb_error_code(err));
        snprintf(message_out, size, "%s", tscb_error_message(err));
        tscb_error_free(err);
    }
    return r;
}

static void test_main_path_over_https_with_the_ca(void) {
    const char *ca = need("TSCB_SIM_CA_FILE");
    tscb_client *client = build(builder_for(ca, NULL));
    tscb_callback_ack *ack = NULL;
    tscb_error *err = NULL;
    CHECK(tscb_register_callback(client, ACCOUNT, "CarrierService", LISTENER, NULL, NULL, &ack, &err) == TSCB_OK);
    CHECK_STR(tscb_callback_ack_service_name(ack), "CarrierService");
    tscb_callback_ack_free(ack);
    tscb_callback_list *list = NULL;
    CHECK(tscb_list_callbacks(client, ACCOUNT, &list, &err) == TSCB_OK);
    CHECK(tscb_callback_list_len(list) == 1);
    CHECK_STR(tscb_callback_list_url(list, 0), LISTENER);
    tscb_callback_list_free(list);
    ack = NULL;
    CHECK(tscb_deregister_callback(client, ACCOUNT, "CarrierService", &ack, &err) == TSCB_OK);
    tscb_callback_ack_free(ack);
    tscb_client_free(client);

    /* Signing in over HTTPS. */
    tscb_client_builder *b = tscb_client_builder_new();
    CHECK(tscb_client_builder_set_base_url(b, need("TSCB_SIM_TLS_URL")) == TSCB_OK);
    CHECK(tscb_client_builder_set_credentials(b, sim_credential("client id"), sim_credential("client secret"),
                                              sim_credential("login username"), sim_credential("login password")) ==
          TSCB_OK);
    CHECK(tscb_client_builder_add_ca_file(b, ca) == TSCB_OK);
    client = build(b);
    CHECK(tscb_login(client, &err) == TSCB_OK);
    CHECK(tscb_logout(client, &err) == TSCB_OK);
    tscb_client_free(client);
}

static void test_unknown_issuer_and_bad_ca_file(void) {
    char code[512], message[512];
    tscb_client *client = build(builder_for(NULL, NULL));
    CHECK(list_once(client, code, message, sizeof code) == TSCB_ERR_TRANSPORT);
    CHECK_STR(code, "Tscb.REQUEST_FAILED.Tls");
    CHECK(strstr(message, "unknown issuer") != NULL);
    CHECK(strstr(message, "ca_file") != NULL && strstr(message, "SSL_CERT_FILE") != NULL);
    tscb_client_free(client);

    tscb_client *none = NULL;
    tscb_error *err = NULL;
    CHECK(tscb_client_builder_build(builder_for("/nonexistent/tscb-ca.pem", NULL), &none, &err) ==
          TSCB_ERR_INVALID_INPUT);
    CHECK(none == NULL);
    CHECK_STR(tscb_error_code(err), "Tscb.INPUT_INVALID.CaFile.Invalid");
    tscb_error_free(err);
    CHECK(tscb_client_builder_add_ca_file(NULL, "x") == TSCB_ERR_NULL_PARAMETER);
    tscb_client_builder *b = tscb_client_builder_new();
    CHECK(tscb_client_builder_add_ca_file(b, NULL) == TSCB_ERR_NULL_PARAMETER);
    tscb_client_builder_free(b);
}

static void test_through_proxies(void) {
    const char *ca = need("TSCB_SIM_CA_FILE");
    char code[512], message[512];

    tscb_client *client = build(builder_for(ca, need("TSCB_PROXY_URL")));
    CHECK(list_once(client, code, message, sizeof code) == TSCB_OK);
    tscb_client_free(client);

    /* "host:port" with credentials, as curl allows, against the proxy that demands them. */
    char with_credentials[256];
    const char *auth_url = need("TSCB_PROXY_AUTH_URL");
    snprintf(with_credentials, sizeof with_credentials, "http://carol:pr0xy-pw@%s", auth_url + strlen("http://"));
    client = build(builder_for(ca, with_credentials));
    CHECK(list_once(client, code, message, sizeof code) == TSCB_OK);
    tscb_client_free(client);

    snprintf(with_credentials, sizeof with_credentials, "http://carol:wr0ng-pr0xy-pw@%s", auth_url + strlen("http://"));
    client = build(builder_for(ca, with_credentials));
    CHECK(list_once(client, code, message, sizeof code) == TSCB_ERR_TRANSPORT);
    CHECK_STR(code, "Tscb.REQUEST_FAILED.Proxy");
    CHECK(strstr(message, "407") != NULL);
    CHECK(strstr(message, "wr0ng-pr0xy-pw") == NULL && strstr(message, "carol") == NULL);
    tscb_client_free(client);

    client = build(builder_for(ca, need("TSCB_PROXY_REFUSE_URL")));
    CHECK(list_once(client, code, message, sizeof code) == TSCB_ERR_TRANSPORT);
    CHECK_STR(code, "Tscb.REQUEST_FAILED.Proxy");
    CHECK(strstr(message, "refused to open a tunnel") != NULL);
    tscb_client_free(client);

    /* NULL and "" mean no proxy, whatever the environment says. */
    client = build(builder_for(ca, ""));
    CHECK(list_once(client, code, message, sizeof code) == TSCB_OK);
    tscb_client_free(client);
    client = build(builder_for(ca, NULL));
    CHECK(list_once(client, code, message, sizeof code) == TSCB_OK);
    tscb_client_free(client);

    tscb_client *none = NULL;
    tscb_error *err = NULL;
    CHECK(tscb_client_builder_build(builder_for(ca, "socks5://carol:wr0ng-pr0xy-pw@127.0.0.1:1"), &none, &err) ==
          TSCB_ERR_INVALID_INPUT);
    CHECK_STR(tscb_error_code(err), "Tscb.INPUT_INVALID.Proxy.Invalid");
    CHECK(strstr(tscb_error_message(err), "wr0ng-pr0xy-pw") == NULL);
    tscb_error_free(err);
    CHECK(tscb_client_builder_set_proxy(NULL, "http://p:1") == TSCB_ERR_NULL_PARAMETER);
}

int main(void) {
    test_main_path_over_https_with_the_ca();
    test_unknown_issuer_and_bad_ca_file();
    test_through_proxies();
    return check_summary("tscb_c_tls");
}
