/* The C API against the tscb-sim binary: no thread started by a client, every call's success
 * path, errors passed through, validation, NULL for every pointer, invalid UTF-8, a timeout, and
 * 8 threads sharing a client; the call timeout and the login guard file (test_deadline_guard.h).
 * Over 400 lines: one C program, so that one build and one valgrind and sanitizer run cover the
 * whole ABI; its topics are sections, and the deadline and guard tests are in their own header. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tscb.h>

#include "check.h"
#include "sim_admin.h"

#define ACCOUNT "TestAccount-2"
#define LISTENER "https://listener.example.com/thingspace"

static tscb_client *new_client_with(const char *bearer, uint64_t timeout_ms) {
    tscb_client_builder *b = tscb_client_builder_new();
    CHECK(b != NULL);
    CHECK(tscb_client_builder_set_base_url(b, sim_url()) == TSCB_OK);
    CHECK(tscb_client_builder_set_bearer_token(b, bearer) == TSCB_OK);
    CHECK(tscb_client_builder_set_session_token(b, sim_credential("session token")) == TSCB_OK);
    CHECK(tscb_client_builder_set_timeout_ms(b, timeout_ms) == TSCB_OK);
    CHECK(tscb_client_builder_set_connect_timeout_ms(b, 5000) == TSCB_OK);
    tscb_client *client = NULL;
    tscb_error *err = NULL;
    tscb_result r = tscb_client_builder_build(b, &client, &err);
    CHECK(r == TSCB_OK);
    CHECK(err == NULL);
    if (r != TSCB_OK) {
        fprintf(stderr, "build failed: %s\n", tscb_error_message(err));
        tscb_error_free(err);
        exit(1);
    }
    return client;
}

static tscb_client *new_client(void) { return new_client_with(sim_credential("bearer token"), 10000); }

/* The threads of this process, as the kernel lists them. */
static int count_threads(void) {
    DIR *dir = opendir("/proc/self/task");
    CHECK(dir != NULL);
    if (dir == NULL) return -1;
    int n = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] != '.') n++;
    }
    closedir(dir);
    return n;
}

/* A client starts no thread: not when built, not on its first calls (which run on the calling
 * thread), with an address and with a host name (looked up on the calling thread) in the URL.
 * Runs first, before any other test has started a thread. */
static void test_no_thread_started(void) {
    sim_reset();
    const char *url = sim_url();
    const char *ip = strstr(url, "127.0.0.1");
    CHECK(ip != NULL);
    if (ip == NULL) return;
    char by_name[512];
    snprintf(by_name, sizeof by_name, "%.*slocalhost%s", (int)(ip - url), url, ip + strlen("127.0.0.1"));
    const char *urls[] = {url, by_name};
    for (int i = 0; i < 2; i++) {
        int before = count_threads();
        tscb_client_builder *b = tscb_client_builder_new();
        CHECK(tscb_client_builder_set_base_url(b, urls[i]) == TSCB_OK);
        CHECK(tscb_client_builder_set_bearer_token(b, sim_credential("bearer token")) == TSCB_OK);
        CHECK(tscb_client_builder_set_session_token(b, sim_credential("session token")) == TSCB_OK);
        tscb_client *client = NULL;
        CHECK(tscb_client_builder_build(b, &client, NULL) == TSCB_OK);
        CHECK(count_threads() == before);
        tscb_callback_ack *ack = NULL;
        CHECK(tscb_register_callback(client, ACCOUNT, "CarrierService", LISTENER, NULL, NULL, &ack, NULL) ==
              TSCB_OK);
        tscb_callback_ack_free(ack);
        tscb_callback_list *list = NULL;
        CHECK(tscb_list_callbacks(client, ACCOUNT, &list, NULL) == TSCB_OK);
        tscb_callback_list_free(list);
        CHECK(count_threads() == before);
        tscb_client_free(client);
        CHECK(count_threads() == before);
    }
}

static void test_version_and_result_strings(void) {
    CHECK(strncmp(tscb_default_base_url(), "https://", 8) == 0);
    CHECK(tscb_version() != NULL && strlen(tscb_version()) > 0);
    tscb_result codes[] = {TSCB_OK,  TSCB_ERR_NULL_PARAMETER, TSCB_ERR_INVALID_UTF8, TSCB_ERR_INVALID_INPUT,
                           TSCB_ERR_API, TSCB_ERR_AUTH, TSCB_ERR_TRANSPORT, TSCB_ERR_TIMEOUT,
                           TSCB_ERR_INVALID_RESPONSE, TSCB_ERR_PANIC};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        CHECK(tscb_result_str(codes[i]) != NULL);
        CHECK(strcmp(tscb_result_str(codes[i]), "unknown result code") != 0);
    }
    CHECK_STR(tscb_result_str(12345), "unknown result code");
    CHECK_STR(tscb_result_str(TSCB_OK), "ok");
}

static void test_register_list_deregister(void) {
    sim_reset();
    tscb_client *client = new_client();
    tscb_callback_ack *ack = NULL;
    tscb_error *err = NULL;

    CHECK(tscb_register_callback(client, ACCOUNT, "CarrierService", LISTENER, "fleet-7", "echo-pw", &ack, &err) ==
          TSCB_OK);
    CHECK(err == NULL);
    CHECK_STR(tscb_callback_ack_account_name(ack), ACCOUNT);
    CHECK_STR(tscb_callback_ack_service_name(ack), "CarrierService");
    tscb_callback_ack_free(ack);

    ack = NULL;
    CHECK(tscb_register_callback(client, ACCOUNT, "DeviceUsage", "http://203.0.113.9:50559/cb", NULL, NULL, &ack,
                                 &err) == TSCB_OK);
    tscb_callback_ack_free(ack);

    tscb_callback_list *list = NULL;
    CHECK(tscb_list_callbacks(client, ACCOUNT, &list, &err) == TSCB_OK);
    CHECK(tscb_callback_list_len(list) == 2);
    for (size_t i = 0; i < tscb_callback_list_len(list); i++) {
        CHECK_STR(tscb_callback_list_account_name(list, i), ACCOUNT);
        const char *service = tscb_callback_list_service_name(list, i);
        CHECK(service != NULL);
        if (service && strcmp(service, "CarrierService") == 0) {
            CHECK_STR(tscb_callback_list_url(list, i), LISTENER);
            CHECK_STR(tscb_callback_list_username(list, i), "fleet-7");
            CHECK_STR(tscb_callback_list_password(list, i), "echo-pw");
        } else {
            CHECK_STR(service, "DeviceUsage");
            CHECK_STR(tscb_callback_list_url(list, i), "http://203.0.113.9:50559/cb");
            CHECK(tscb_callback_list_username(list, i) == NULL);
            CHECK(tscb_callback_list_password(list, i) == NULL);
        }
    }
    CHECK(tscb_callback_list_url(list, 2) == NULL);
    CHECK(tscb_callback_list_account_name(list, SIZE_MAX) == NULL);
    tscb_callback_list_free(list);

    ack = NULL;
    CHECK(tscb_deregister_callback(client, ACCOUNT, "CarrierService", &ack, &err) == TSCB_OK);
    CHECK_STR(tscb_callback_ack_service_name(ack), "CarrierService");
    tscb_callback_ack_free(ack);
    ack = NULL;
    CHECK(tscb_deregister_callback(client, ACCOUNT, "DeviceUsage", &ack, &err) == TSCB_OK);
    tscb_callback_ack_free(ack);

    list = NULL;
    CHECK(tscb_list_callbacks(client, ACCOUNT, &list, &err) == TSCB_OK);
    CHECK(tscb_callback_list_len(list) == 0);
    tscb_callback_list_free(list);
    CHECK(sim_request_count() == 6);
    tscb_client_free(client);
}

static void test_server_errors_pass_through(void) {
    sim_reset();
    tscb_client *client = new_client();
    CHECK(sim_admin("POST", "/__admin/faults",
                    "{\"action\":\"respond\",\"times\":1,\"status\":400,\"content_type\":\"application/json\","
                    "\"body\":\"{\\\"errorCode\\\":\\\"UnifiedWebService.REQUEST_FAILED.UnexpectedError\\\","
                    "\\\"errorMessage\\\":\\\"Something went wrong\\\"}\"}",
                    NULL) == 204);
    tscb_callback_ack *ack = (tscb_callback_ack *)(uintptr_t)0x1; /* must stay untouched */
    tscb_error *err = NULL;
    tscb_result r = tscb_register_callback(client, ACCOUNT, "CarrierService", LISTENER, NULL, NULL, &ack, &err);
    CHECK(r == TSCB_ERR_API);
    CHECK(ack == (tscb_callback_ack *)(uintptr_t)0x1);
    CHECK(err != NULL);
    CHECK_STR(tscb_error_code(err), "UnifiedWebService.REQUEST_FAILED.UnexpectedError");
    CHECK_STR(tscb_error_message(err), "Something went wrong");
    CHECK(tscb_error_http_status(err) == 400);
    CHECK(tscb_error_kind(err) == TSCB_ERR_API);
    CHECK(tscb_error_sent(err) == TSCB_SENT_YES);
    CHECK(tscb_error_field(err) == NULL);
    char *json = tscb_error_to_json(err);
    CHECK_STR(json,
              "{\"errorCode\":\"UnifiedWebService.REQUEST_FAILED.UnexpectedError\","
              "\"errorMessage\":\"Something went wrong\"}");
    tscb_string_free(json);
    tscb_error_free(err);

    /* The simulator's own answer for an unknown account. */
    err = NULL;
    tscb_callback_list *list = NULL;
    CHECK(tscb_list_callbacks(client, "NoSuchAccount", &list, &err) == TSCB_ERR_API);
    CHECK(list == NULL);
    CHECK_STR(tscb_error_code(err), "UnifiedWebService.REQUEST_FAILED.AccountNotFound");
    tscb_error_free(err);

    /* Bad input: which input, and nothing was sent. */
    err = NULL;
    CHECK(tscb_list_callbacks(client, "..", &list, &err) == TSCB_ERR_INVALID_INPUT);
    CHECK_STR(tscb_error_field(err), "AccountName");
    CHECK(tscb_error_sent(err) == TSCB_SENT_NO);
    CHECK(tscb_error_sent(NULL) == TSCB_SENT_MAYBE && tscb_error_field(NULL) == NULL);
    tscb_error_free(err);

    /* An HTML 502 from a proxy. */
    CHECK(sim_admin("POST", "/__admin/faults",
                    "{\"action\":\"respond\",\"times\":1,\"status\":502,\"content_type\":\"text/html\","
                    "\"body\":\"<html>Bad Gateway</html>\"}",
                    NULL) == 204);
    err = NULL;
    CHECK(tscb_list_callbacks(client, ACCOUNT, &list, &err) == TSCB_ERR_API);
    CHECK_STR(tscb_error_code(err), "Tscb.REQUEST_FAILED.HttpStatus");
    CHECK(tscb_error_http_status(err) == 502);
    CHECK(tscb_error_message(err) != NULL && strstr(tscb_error_message(err), "Bad Gateway") != NULL);
    tscb_error_free(err);

    /* err may be NULL: the caller still gets the code. */
    CHECK(tscb_list_callbacks(client, "NoSuchAccount", &list, NULL) == TSCB_ERR_API);
    tscb_client_free(client);

    /* A refused bearer token is an authentication error with the gateway's code. */
    client = new_client_with("wrong-token", 10000);
    err = NULL;
    CHECK(tscb_list_callbacks(client, ACCOUNT, &list, &err) == TSCB_ERR_AUTH);
    CHECK_STR(tscb_error_code(err), "900901");
    CHECK(tscb_error_http_status(err) == 401);
    CHECK(tscb_error_kind(err) == TSCB_ERR_AUTH);
    tscb_error_free(err);
    tscb_client_free(client);
}

struct invalid_case {
    const char *account, *service, *url, *username, *password, *code;
};

static void test_validation_sends_nothing(void) {
    sim_reset();
    tscb_client *client = new_client();
    const char *long41 = "12345678901234567890123456789012345678901";
    struct invalid_case cases[] = {
        {"", "CarrierService", LISTENER, NULL, NULL, "Tscb.INPUT_INVALID.AccountName.Empty"},
        {"a\nb", "CarrierService", LISTENER, NULL, NULL, "Tscb.INPUT_INVALID.AccountName.InvalidCharacter"},
        {"..", "CarrierService", LISTENER, NULL, NULL, "Tscb.INPUT_INVALID.AccountName.DotSegment"},
        {ACCOUNT, "", LISTENER, NULL, NULL, "Tscb.INPUT_INVALID.ServiceName.Empty"},
        {ACCOUNT, "Carrier/Service", LISTENER, NULL, NULL, "Tscb.INPUT_INVALID.ServiceName.InvalidCharacter"},
        {ACCOUNT, "CarrierService", "listener.example.com", NULL, NULL, "Tscb.INPUT_INVALID.CallbackUrl.Malformed"},
        {ACCOUNT, "CarrierService", "ftp://a.example/cb", NULL, NULL, "Tscb.INPUT_INVALID.CallbackUrl.Scheme"},
        {ACCOUNT, "CarrierService", "https://a.example:8443/cb", NULL, NULL, "Tscb.INPUT_INVALID.CallbackUrl.Port"},
        {ACCOUNT, "CarrierService", LISTENER, long41, NULL, "Tscb.INPUT_INVALID.Username.TooLong"},
        {ACCOUNT, "CarrierService", LISTENER, "a\tb", NULL, "Tscb.INPUT_INVALID.Username.InvalidCharacter"},
        {ACCOUNT, "CarrierService", LISTENER, NULL, long41, "Tscb.INPUT_INVALID.Password.TooLong"},
        {ACCOUNT, "CarrierService", LISTENER, NULL, "a\r\nb", "Tscb.INPUT_INVALID.Password.InvalidCharacter"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct invalid_case *c = &cases[i];
        tscb_callback_ack *ack = NULL;
        tscb_error *err = NULL;
        tscb_result r = tscb_register_callback(client, c->account, c->service, c->url, c->username, c->password,
                                               &ack, &err);
        CHECK(r == TSCB_ERR_INVALID_INPUT);
        CHECK(ack == NULL);
        CHECK_STR(tscb_error_code(err), c->code);
        CHECK(tscb_error_http_status(err) == 0);
        CHECK(tscb_error_kind(err) == TSCB_ERR_INVALID_INPUT);
        tscb_error_free(err);
    }
    tscb_callback_ack *ack = NULL;
    tscb_error *err = NULL;
    CHECK(tscb_deregister_callback(client, ACCOUNT, "a b", &ack, &err) == TSCB_ERR_INVALID_INPUT);
    CHECK_STR(tscb_error_code(err), "Tscb.INPUT_INVALID.ServiceName.InvalidCharacter");
    tscb_error_free(err);
    CHECK(sim_request_count() == 0);
    tscb_client_free(client);

    /* The builder's checks: the builder is consumed even when building fails. */
    tscb_client_builder *b = tscb_client_builder_new();
    tscb_client_builder_set_base_url(b, "http://192.0.2.1/api");
    tscb_client_builder_set_bearer_token(b, "b");
    tscb_client_builder_set_session_token(b, "s");
    tscb_client *out = NULL;
    err = NULL;
    CHECK(tscb_client_builder_build(b, &out, &err) == TSCB_ERR_INVALID_INPUT);
    CHECK(out == NULL);
    CHECK_STR(tscb_error_code(err), "Tscb.INPUT_INVALID.BaseUrl.Insecure");
    tscb_error_free(err);

    b = tscb_client_builder_new();
    tscb_client_builder_set_bearer_token(b, "b");
    err = NULL;
    CHECK(tscb_client_builder_build(b, &out, &err) == TSCB_ERR_INVALID_INPUT);
    CHECK_STR(tscb_error_code(err), "Tscb.INPUT_INVALID.SessionToken.Missing");
    tscb_error_free(err);

    b = tscb_client_builder_new();
    tscb_client_builder_set_bearer_token(b, "b\r\nX-Injected: 1");
    tscb_client_builder_set_session_token(b, "s");
    err = NULL;
    CHECK(tscb_client_builder_build(b, &out, &err) == TSCB_ERR_INVALID_INPUT);
    CHECK_STR(tscb_error_code(err), "Tscb.INPUT_INVALID.BearerToken.InvalidCharacter");
    tscb_error_free(err);

    b = tscb_client_builder_new();
    tscb_client_builder_set_bearer_token(b, "b");
    tscb_client_builder_set_session_token(b, "s");
    tscb_client_builder_set_timeout_ms(b, 0);
    err = NULL;
    CHECK(tscb_client_builder_build(b, &out, &err) == TSCB_ERR_INVALID_INPUT);
    CHECK_STR(tscb_error_code(err), "Tscb.INPUT_INVALID.Timeout.Zero");
    tscb_error_free(err);
}

#define EXPECT_NULL_PARAM(call, err)                                                \
    do {                                                                            \
        (err) = NULL;                                                               \
        CHECK((call) == TSCB_ERR_NULL_PARAMETER);                                   \
        CHECK_STR(tscb_error_code(err), "Tscb.INPUT_INVALID.Argument.Missing");     \
        CHECK(tscb_error_kind(err) == TSCB_ERR_NULL_PARAMETER);                     \
        tscb_error_free(err);                                                       \
    } while (0)

static void test_null_pointers(void) {
    sim_reset();
    tscb_client *c = new_client();
    tscb_callback_ack *ack = NULL;
    tscb_callback_list *list = NULL;
    tscb_client *out = NULL;
    tscb_error *err = NULL;

    CHECK(tscb_client_builder_set_base_url(NULL, "x") == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_client_builder_set_bearer_token(NULL, "x") == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_client_builder_set_session_token(NULL, "x") == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_client_builder_set_user_agent(NULL, "x") == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_client_builder_set_timeout_ms(NULL, 1) == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_client_builder_set_connect_timeout_ms(NULL, 1) == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_client_builder_set_check_callback_port(NULL, 1) == TSCB_ERR_NULL_PARAMETER);
    tscb_client_builder *b = tscb_client_builder_new();
    CHECK(tscb_client_builder_set_base_url(b, NULL) == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_client_builder_set_bearer_token(b, NULL) == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_client_builder_set_session_token(b, NULL) == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_client_builder_set_user_agent(b, NULL) == TSCB_ERR_NULL_PARAMETER);
    EXPECT_NULL_PARAM(tscb_client_builder_build(NULL, &out, &err), err);
    /* A NULL `out` leaves the builder with the caller, who still frees it. */
    EXPECT_NULL_PARAM(tscb_client_builder_build(b, NULL, &err), err);
    tscb_client_builder_free(b);

    EXPECT_NULL_PARAM(tscb_register_callback(NULL, ACCOUNT, "CarrierService", LISTENER, NULL, NULL, &ack, &err), err);
    EXPECT_NULL_PARAM(tscb_register_callback(c, NULL, "CarrierService", LISTENER, NULL, NULL, &ack, &err), err);
    EXPECT_NULL_PARAM(tscb_register_callback(c, ACCOUNT, NULL, LISTENER, NULL, NULL, &ack, &err), err);
    EXPECT_NULL_PARAM(tscb_register_callback(c, ACCOUNT, "CarrierService", NULL, NULL, NULL, &ack, &err), err);
    EXPECT_NULL_PARAM(tscb_register_callback(c, ACCOUNT, "CarrierService", LISTENER, NULL, NULL, NULL, &err), err);
    EXPECT_NULL_PARAM(tscb_list_callbacks(NULL, ACCOUNT, &list, &err), err);
    EXPECT_NULL_PARAM(tscb_list_callbacks(c, NULL, &list, &err), err);
    EXPECT_NULL_PARAM(tscb_list_callbacks(c, ACCOUNT, NULL, &err), err);
    EXPECT_NULL_PARAM(tscb_deregister_callback(NULL, ACCOUNT, "CarrierService", &ack, &err), err);
    EXPECT_NULL_PARAM(tscb_deregister_callback(c, NULL, "CarrierService", &ack, &err), err);
    EXPECT_NULL_PARAM(tscb_deregister_callback(c, ACCOUNT, NULL, &ack, &err), err);
    EXPECT_NULL_PARAM(tscb_deregister_callback(c, ACCOUNT, "CarrierService", NULL, &err), err);
    CHECK(tscb_register_callback(c, ACCOUNT, "CarrierService", LISTENER, NULL, NULL, NULL, NULL) ==
          TSCB_ERR_NULL_PARAMETER);
    CHECK(ack == NULL && list == NULL && out == NULL);

    CHECK(tscb_error_code(NULL) == NULL);
    CHECK(tscb_error_message(NULL) == NULL);
    CHECK(tscb_error_http_status(NULL) == 0);
    CHECK(tscb_error_kind(NULL) == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_error_to_json(NULL) == NULL);
    CHECK(tscb_callback_ack_account_name(NULL) == NULL);
    CHECK(tscb_callback_ack_service_name(NULL) == NULL);
    CHECK(tscb_callback_list_len(NULL) == 0);
    CHECK(tscb_callback_list_account_name(NULL, 0) == NULL);
    CHECK(tscb_callback_list_service_name(NULL, 0) == NULL);
    CHECK(tscb_callback_list_url(NULL, 0) == NULL);
    CHECK(tscb_callback_list_username(NULL, 0) == NULL);
    CHECK(tscb_callback_list_password(NULL, 0) == NULL);
    tscb_client_builder_free(NULL);
    tscb_client_free(NULL);
    tscb_error_free(NULL);
    tscb_callback_ack_free(NULL);
    tscb_callback_list_free(NULL);
    tscb_string_free(NULL);
    CHECK(sim_request_count() == 0);
    tscb_client_free(c);
}

static void test_invalid_utf8(void) {
    sim_reset();
    tscb_client *c = new_client();
    const char *bad = "Test\xff\xfe";
    tscb_callback_ack *ack = NULL;
    tscb_callback_list *list = NULL;
    tscb_error *err = NULL;
    const char *args[5] = {ACCOUNT, "CarrierService", LISTENER, "user", "pw"};
    for (int i = 0; i < 5; i++) {
        const char *a[5];
        memcpy(a, args, sizeof a);
        a[i] = bad;
        err = NULL;
        CHECK(tscb_register_callback(c, a[0], a[1], a[2], a[3], a[4], &ack, &err) == TSCB_ERR_INVALID_UTF8);
        CHECK_STR(tscb_error_code(err), "Tscb.INPUT_INVALID.Argument.Encoding");
        CHECK(tscb_error_kind(err) == TSCB_ERR_INVALID_UTF8);
        tscb_error_free(err);
    }
    err = NULL;
    CHECK(tscb_list_callbacks(c, bad, &list, &err) == TSCB_ERR_INVALID_UTF8);
    tscb_error_free(err);
    err = NULL;
    CHECK(tscb_deregister_callback(c, ACCOUNT, bad, &ack, &err) == TSCB_ERR_INVALID_UTF8);
    tscb_error_free(err);
    tscb_client_builder *b = tscb_client_builder_new();
    CHECK(tscb_client_builder_error(b, NULL) == TSCB_OK);
    CHECK(tscb_client_builder_set_bearer_token(b, bad) == TSCB_ERR_INVALID_UTF8);
    /* The builder keeps the setter's error, with the library's code and a message naming the
     * argument, for a caller that checks only build(): later setters that work do not hide it. */
    err = NULL;
    CHECK(tscb_client_builder_error(b, &err) == TSCB_ERR_INVALID_UTF8);
    CHECK_STR(tscb_error_code(err), "Tscb.INPUT_INVALID.Argument.Encoding");
    CHECK_STR(tscb_error_message(err), "`token` is not valid UTF-8");
    tscb_error_free(err);
    CHECK(tscb_client_builder_set_bearer_token(b, "b") == TSCB_OK);
    CHECK(tscb_client_builder_set_session_token(b, "s") == TSCB_OK);
    CHECK(tscb_client_builder_set_user_agent(b, NULL) == TSCB_ERR_NULL_PARAMETER);
    tscb_client *built = NULL;
    err = NULL;
    CHECK(tscb_client_builder_build(b, &built, &err) == TSCB_ERR_INVALID_UTF8);
    CHECK(built == NULL);
    CHECK(tscb_error_kind(err) == TSCB_ERR_INVALID_UTF8);
    CHECK_STR(tscb_error_message(err), "`token` is not valid UTF-8");
    tscb_error_free(err);
    err = NULL;
    CHECK(tscb_client_builder_error(NULL, &err) == TSCB_ERR_NULL_PARAMETER);
    CHECK_STR(tscb_error_code(err), "Tscb.INPUT_INVALID.Argument.Missing");
    tscb_error_free(err);

    /* For bindings with counted strings and signed durations (tscb.hpp): the library's errors. */
    err = NULL;
    CHECK(tscb_check_text("account", "a\0b", 3, &err) == TSCB_ERR_INVALID_INPUT);
    CHECK_STR(tscb_error_code(err), "Tscb.INPUT_INVALID.Argument.Encoding");
    tscb_error_free(err);
    CHECK(tscb_check_text("account", bad, strlen(bad), NULL) == TSCB_ERR_INVALID_UTF8);
    CHECK(tscb_check_text("account", "ab", 2, NULL) == TSCB_OK);
    CHECK(tscb_check_text(NULL, NULL, 0, NULL) == TSCB_OK);
    err = NULL;
    CHECK(tscb_check_millis("timeout", -1, &err) == TSCB_ERR_INVALID_INPUT);
    CHECK_STR(tscb_error_code(err), "Tscb.INPUT_INVALID.Timeout.Invalid");
    tscb_error_free(err);
    CHECK(tscb_check_millis("timeout", 0, NULL) == TSCB_OK);
    CHECK(ack == NULL && list == NULL);
    CHECK(sim_request_count() == 0);
    tscb_client_free(c);
}

static void test_timeout(void) {
    sim_reset();
    CHECK(sim_admin("POST", "/__admin/faults", "{\"action\":\"delay\",\"ms\":10000,\"times\":1}", NULL) == 204);
    tscb_client *c = new_client_with(sim_credential("bearer token"), 300);
    tscb_callback_list *list = NULL;
    tscb_error *err = NULL;
    /* When it fires is core's to test (core/tests/errors.rs); here, that the setting arrives
     * and what the caller gets. */
    CHECK(tscb_list_callbacks(c, ACCOUNT, &list, &err) == TSCB_ERR_TIMEOUT);
    CHECK_STR(tscb_error_code(err), "Tscb.REQUEST_FAILED.Timeout");
    CHECK(tscb_error_http_status(err) == 0);
    tscb_error_free(err);
    tscb_client_free(c);
}

struct thread_arg {
    tscb_client *client;
    int index;
    int calls;
    int failures;
};

static void *thread_main(void *p) {
    struct thread_arg *arg = p;
    char service[32];
    snprintf(service, sizeof service, "Service%d", arg->index);
    for (int i = 0; i < arg->calls; i++) {
        tscb_callback_ack *ack = NULL;
        if (tscb_register_callback(arg->client, ACCOUNT, service, LISTENER, NULL, NULL, &ack, NULL) != TSCB_OK ||
            strcmp(tscb_callback_ack_service_name(ack), service) != 0) {
            arg->failures++;
        }
        tscb_callback_ack_free(ack);
    }
    return NULL;
}

static void test_threads_share_one_client(void) {
    sim_reset();
    const char *env = getenv("TSCB_TEST_THREAD_CALLS");
    int calls = env ? atoi(env) : 1000;
    tscb_client *c = new_client();
    pthread_t threads[8];
    struct thread_arg args[8];
    for (int t = 0; t < 8; t++) {
        args[t] = (struct thread_arg){c, t, calls, 0};
        CHECK(pthread_create(&threads[t], NULL, thread_main, &args[t]) == 0);
    }
    int failures = 0;
    for (int t = 0; t < 8; t++) {
        pthread_join(threads[t], NULL);
        failures += args[t].failures;
    }
    CHECK(failures == 0);
    tscb_callback_list *list = NULL;
    CHECK(tscb_list_callbacks(c, ACCOUNT, &list, NULL) == TSCB_OK);
    CHECK(tscb_callback_list_len(list) >= 8);
    tscb_callback_list_free(list);
    CHECK(sim_request_count() == 8 * calls + 1);
    for (int t = 0; t < 8; t++) {
        char service[32];
        snprintf(service, sizeof service, "Service%d", t);
        tscb_callback_ack *ack = NULL;
        CHECK(tscb_deregister_callback(c, ACCOUNT, service, &ack, NULL) == TSCB_OK);
        tscb_callback_ack_free(ack);
    }
    tscb_client_free(c);
}

static tscb_client *new_signing_in_client(const char *password) {
    tscb_client_builder *b = tscb_client_builder_new();
    CHECK(tscb_client_builder_set_base_url(b, sim_url()) == TSCB_OK);
    CHECK(tscb_client_builder_set_credentials(b, sim_credential("client id"), sim_credential("client secret"), sim_credential("login username"), password) ==
          TSCB_OK);
    tscb_client *client = NULL;
    CHECK(tscb_client_builder_build(b, &client, NULL) == TSCB_OK);
    return client;
}

static void test_sign_in_and_renewal(void) {
    sim_reset();
    tscb_client *c = new_signing_in_client(sim_credential("login password"));
    tscb_callback_list *list = NULL;
    CHECK(tscb_list_callbacks(c, ACCOUNT, &list, NULL) == TSCB_OK);
    tscb_callback_list_free(list);
    CHECK(sim_count_path("/oauth2/token") == 1);
    CHECK(sim_count_path("/session/login") == 1);

    /* The session expires mid-run: the next call logs in again and succeeds. */
    CHECK(sim_admin("POST", "/__admin/expire-sessions", NULL, NULL) == 204);
    tscb_callback_ack *ack = NULL;
    tscb_error *err = NULL;
    CHECK(tscb_register_callback(c, ACCOUNT, "CarrierService", LISTENER, NULL, NULL, &ack, &err) == TSCB_OK);
    CHECK(err == NULL);
    tscb_callback_ack_free(ack);
    CHECK(sim_count_path("/session/login") == 2);

    CHECK(tscb_logout(c, NULL) == TSCB_OK);
    CHECK(sim_count_path("/session/logout") == 1);
    ack = NULL;
    CHECK(tscb_deregister_callback(c, ACCOUNT, "CarrierService", &ack, NULL) == TSCB_OK);
    tscb_callback_ack_free(ack);
    CHECK(sim_count_path("/session/login") == 3);
    tscb_client_free(c);

    /* A bad password: an authentication error, and exactly one login request, ever. */
    sim_reset();
    c = new_signing_in_client("wrong-password");
    for (int i = 0; i < 3; i++) {
        err = NULL;
        CHECK(tscb_list_callbacks(c, ACCOUNT, &list, &err) == TSCB_ERR_AUTH);
        CHECK_STR(tscb_error_code(err), "UnifiedWebService.REQUEST_FAILED.UserNotAuthorized");
        CHECK(tscb_error_kind(err) == TSCB_ERR_AUTH);
        tscb_error_free(err);
    }
    err = NULL;
    CHECK(tscb_login(c, &err) == TSCB_ERR_AUTH);
    tscb_error_free(err);
    CHECK(sim_count_path("/session/login") == 1);
    tscb_client_free(c);

    /* NULL checks of the new functions. */
    CHECK(tscb_login(NULL, NULL) == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_logout(NULL, NULL) == TSCB_ERR_NULL_PARAMETER);
    tscb_client_builder *b = tscb_client_builder_new();
    CHECK(tscb_client_builder_set_credentials(b, "id", NULL, "u", "p") == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_client_builder_set_credentials(NULL, "id", "s", "u", "p") == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_client_builder_set_max_retries(NULL, 1) == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_client_builder_set_max_retries(b, 0) == TSCB_OK);
    CHECK(tscb_client_builder_set_retry_register_when_busy(b, 1) == TSCB_OK);
    CHECK(tscb_client_builder_set_retry_register_when_busy(NULL, 1) == TSCB_ERR_NULL_PARAMETER);
    tscb_client_builder_free(b);

    /* A busy register is repeated only when allowed. (This simulator's fixed session was
     * expired above, so the client signs in.) */
    sim_reset();
    CHECK(sim_admin("POST", "/__admin/faults",
                    "{\"action\":\"respond\",\"times\":1,\"method\":\"POST\",\"path_contains\":\"/callbacks/\","
                    "\"status\":503}",
                    NULL) == 204);
    b = tscb_client_builder_new();
    tscb_client_builder_set_base_url(b, sim_url());
    tscb_client_builder_set_credentials(b, sim_credential("client id"), sim_credential("client secret"), sim_credential("login username"), sim_credential("login password"));
    tscb_client_builder_set_retry_register_when_busy(b, 1);
    tscb_client *retrying = NULL;
    CHECK(tscb_client_builder_build(b, &retrying, NULL) == TSCB_OK);
    tscb_callback_ack *busy_ack = NULL;
    CHECK(tscb_register_callback(retrying, ACCOUNT, "CarrierService", LISTENER, NULL, NULL, &busy_ack, NULL) ==
          TSCB_OK);
    tscb_callback_ack_free(busy_ack);
    CHECK(sim_count_path("/callbacks/TestAccount-2") == 2);
    tscb_client_free(retrying);

    /* Plain http to a host that is not loopback only when asked for. */
    CHECK(tscb_client_builder_set_allow_insecure_http(NULL, 1) == TSCB_ERR_NULL_PARAMETER);
    b = tscb_client_builder_new();
    tscb_client_builder_set_base_url(b, "http://192.0.2.1/api");
    tscb_client_builder_set_bearer_token(b, "b");
    tscb_client_builder_set_session_token(b, "s");
    CHECK(tscb_client_builder_set_allow_insecure_http(b, 1) == TSCB_OK);
    tscb_client *insecure = NULL;
    CHECK(tscb_client_builder_build(b, &insecure, NULL) == TSCB_OK);
    tscb_client_free(insecure);
}

#include "test_deadline_guard.h"

/* tscb_client_builder_from_env(): the variables reach the builder; one that is not UTF-8 is
 * refused by name; none at all says which to set. Runs before any thread is started: it
 * changes the process's environment. */
static void test_from_env(void) {
    static const char *all[] = {"THINGSPACE_CLIENT_ID",   "THINGSPACE_CLIENT_SECRET", "THINGSPACE_LOGIN_USERNAME",
                                "THINGSPACE_LOGIN_PASSWORD", "THINGSPACE_BEARER_TOKEN", "THINGSPACE_SESSION_TOKEN",
                                "THINGSPACE_BASE_URL",     "THINGSPACE_CA_FILE"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) unsetenv(all[i]);
    sim_reset();
    tscb_client_builder *b = NULL;
    tscb_error *err = NULL;
    CHECK(tscb_client_builder_from_env(&b, &err) == TSCB_ERR_INVALID_INPUT);
    CHECK(b == NULL);
    CHECK_STR(tscb_error_code(err), "Tscb.INPUT_INVALID.BearerToken.Missing");
    CHECK(strstr(tscb_error_message(err), "THINGSPACE_CLIENT_ID") != NULL);
    tscb_error_free(err);

    setenv("THINGSPACE_BASE_URL", sim_url(), 1);
    setenv("THINGSPACE_BEARER_TOKEN", sim_credential("bearer token"), 1);
    setenv("THINGSPACE_SESSION_TOKEN", sim_credential("session token"), 1);
    CHECK(tscb_client_builder_from_env(&b, NULL) == TSCB_OK);
    tscb_client *c = NULL;
    CHECK(tscb_client_builder_build(b, &c, NULL) == TSCB_OK);
    tscb_callback_list *list = NULL;
    CHECK(tscb_list_callbacks(c, ACCOUNT, &list, NULL) == TSCB_OK);
    tscb_callback_list_free(list);
    tscb_client_free(c);
    CHECK(sim_request_count() == 1);

    /* Empty: kept, so that building names it (never a silent switch of sign-in). */
    setenv("THINGSPACE_BEARER_TOKEN", "", 1);
    b = NULL;
    CHECK(tscb_client_builder_from_env(&b, NULL) == TSCB_OK);
    c = NULL;
    err = NULL;
    CHECK(tscb_client_builder_build(b, &c, &err) == TSCB_ERR_INVALID_INPUT);
    CHECK_STR(tscb_error_code(err), "Tscb.INPUT_INVALID.BearerToken.Missing");
    tscb_error_free(err);

    setenv("THINGSPACE_SESSION_TOKEN", "secret-\xff", 1);
    b = NULL;
    err = NULL;
    CHECK(tscb_client_builder_from_env(&b, &err) == TSCB_ERR_INVALID_UTF8);
    CHECK(b == NULL);
    CHECK_STR(tscb_error_code(err), "Tscb.INPUT_INVALID.Argument.Encoding");
    CHECK(strstr(tscb_error_message(err), "THINGSPACE_SESSION_TOKEN") != NULL);
    CHECK(strstr(tscb_error_message(err), "secret-") == NULL);
    tscb_error_free(err);
    CHECK(tscb_client_builder_from_env(NULL, NULL) == TSCB_ERR_NULL_PARAMETER);
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) unsetenv(all[i]);
}

int main(void) {
    test_no_thread_started();
    test_from_env();
    test_version_and_result_strings();
    test_register_list_deregister();
    test_server_errors_pass_through();
    test_validation_sends_nothing();
    test_null_pointers();
    test_invalid_utf8();
    test_timeout();
    test_threads_share_one_client();
    test_sign_in_and_renewal();
    test_call_timeout();
    test_login_guard_file();
    return check_summary("tscb_c");
}
