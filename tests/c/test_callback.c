/* Receiving callbacks from C: parsing ThingSpace's messages, the verifier's source, credential
 * and rotation rules, resends, bad bodies, NULL arguments, and that no password reaches an error.
 * Needs no server. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <tscb.h>

#include "check.h"

#define PASSWORD "Corr3ct-H0rse-Battery"
#define OLD_PASSWORD "0ld-Pa55w0rd-Staple"
#define VERIZON "3.87.163.45"

static const char FAULT_EXAMPLE[] =
    "{\"username\":\"\",\"password\":\"\",\"requestId\":\"076f7ea9-8230-49b1-9386-8dafaddc7d9e\","
    "\"deviceIds\":[{\"id\":\"20180903000000000009\",\"kind\":\"Iccid\"}],"
    "\"faultResponse\":{\"faultcode\":\"UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive\","
    "\"faultstring\":\"REQUEST_FAILED. Device is already active\"},"
    "\"status\":\"Failed\",\"callbackCount\":1,\"maxCallbackThreshold\":4}";

/* A CarrierService result with the given echo and attempt number. */
static char *body_with(const char *username, const char *password, int count) {
    static const char format[] =
        "{\"username\":\"%s\",\"password\":\"%s\",\"requestId\":\"req-1\","
        "\"deviceIds\":[{\"id\":\"353238060000001\",\"kind\":\"IMEI\"}],"
        "\"deviceResponse\":{\"changeIdentifierResponse\":{\"iccid\":\"8914800000000000001\"}},"
        "\"status\":\"Success\",\"callbackCount\":%d,\"maxCallbackThreshold\":4}";
    size_t size = sizeof format + strlen(username) + strlen(password) + 16;
    char *body = malloc(size);
    CHECK(body != NULL);
    snprintf(body, size, format, username, password, count);
    return body;
}

static tscb_callback_message *parse_ok(const char *body) {
    tscb_callback_message *msg = NULL;
    tscb_error *err = NULL;
    tscb_result r = tscb_callback_message_parse((const uint8_t *)body, strlen(body), &msg, &err);
    CHECK(r == TSCB_OK);
    if (r != TSCB_OK) {
        fprintf(stderr, "parse failed: %s\n", tscb_error_message(err));
        tscb_error_free(err);
    }
    return msg;
}

/* Parses a body that must be refused; checks the result, the code, and that `out` was left alone. */
/* The status a listener answers for an error with `code`: the message's fault (4xx), or, for
 * anything else (a bad argument), the listener's (500, so that ThingSpace sends it again). */
static unsigned expected_answer(const char *code) {
    if (strcmp(code, "Tscb.CALLBACK_REJECTED.Source") == 0) return 403;
    if (strcmp(code, "Tscb.CALLBACK_REJECTED.Credentials") == 0) return 401;
    if (strcmp(code, "Tscb.CALLBACK_INVALID.TooLarge") == 0) return 413;
    if (strncmp(code, "Tscb.CALLBACK_INVALID.", 22) == 0) return 400;
    return 500;
}

static void check_parse_refused(const void *body, size_t len, tscb_result expected, const char *code) {
    tscb_callback_message *msg = (tscb_callback_message *)&checks_passed; /* a sentinel, never freed */
    tscb_error *err = NULL;
    tscb_result r = tscb_callback_message_parse(body, len, &msg, &err);
    CHECK(r == expected);
    CHECK(msg == (tscb_callback_message *)&checks_passed);
    CHECK(err != NULL);
    if (err != NULL) {
        CHECK_STR(tscb_error_code(err), code);
        CHECK(tscb_error_kind(err) == expected);
        CHECK(tscb_error_http_status(err) == 0);
        CHECK(tscb_callback_answer_status(err) == expected_answer(code));
        tscb_error_free(err);
    }
}

static void test_result_strings(void) {
    CHECK(TSCB_ERR_CALLBACK_REJECTED == 600);
    CHECK(TSCB_ERR_CALLBACK_INVALID == 601);
    CHECK(strcmp(tscb_result_str(TSCB_ERR_CALLBACK_REJECTED), "unknown result code") != 0);
    CHECK(strcmp(tscb_result_str(TSCB_ERR_CALLBACK_INVALID), "unknown result code") != 0);
}

static void test_the_documented_fault_example(void) {
    tscb_callback_message *msg = parse_ok(FAULT_EXAMPLE);
    CHECK_STR(tscb_callback_message_request_id(msg), "076f7ea9-8230-49b1-9386-8dafaddc7d9e");
    CHECK_STR(tscb_callback_message_username(msg), "");
    CHECK_STR(tscb_callback_message_password(msg), "");
    CHECK_STR(tscb_callback_message_status(msg), "Failed");
    CHECK(tscb_callback_message_callback_count(msg) == 1);
    CHECK(tscb_callback_message_max_callback_threshold(msg) == 4);
    CHECK(tscb_callback_message_device_count(msg) == 1);
    CHECK_STR(tscb_callback_message_device_id(msg, 0), "20180903000000000009");
    CHECK_STR(tscb_callback_message_device_kind(msg, 0), "Iccid");
    CHECK(strcasecmp(tscb_callback_message_device_kind(msg, 0), "ICCID") == 0);
    CHECK(tscb_callback_message_device_id(msg, 1) == NULL);
    CHECK(tscb_callback_message_device_kind(msg, 1) == NULL);
    CHECK_STR(tscb_callback_message_fault_code(msg), "UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive");
    CHECK_STR(tscb_callback_message_fault_message(msg), "REQUEST_FAILED. Device is already active");
    CHECK_STR(tscb_callback_message_payload_name(msg), "faultResponse");
    CHECK_STR(tscb_callback_message_payload_json(msg),
              "{\"faultcode\":\"UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive\","
              "\"faultstring\":\"REQUEST_FAILED. Device is already active\"}");
    CHECK_STR(tscb_callback_message_extra_json(msg), "{}");
    CHECK(strlen(tscb_callback_message_dedup_key(msg)) == 64);
    tscb_callback_message_free(msg);
}

static void test_unknown_fields_and_absent_ones(void) {
    tscb_callback_message *msg =
        parse_ok("{\"smsResponse\":{\"text\":\"hi\",\"n\":[1,2]},\"deliveredAt\":\"2026-01-01\",\"callbackCount\":\"2\","
                 "\"deviceIds\":[{\"id\":\"1\"}]}");
    CHECK_STR(tscb_callback_message_payload_name(msg), "smsResponse");
    CHECK_STR(tscb_callback_message_payload_json(msg), "{\"n\":[1,2],\"text\":\"hi\"}");
    CHECK_STR(tscb_callback_message_extra_json(msg), "{\"deliveredAt\":\"2026-01-01\"}");
    CHECK(tscb_callback_message_callback_count(msg) == 2);
    CHECK(tscb_callback_message_max_callback_threshold(msg) == -1);
    CHECK_STR(tscb_callback_message_device_kind(msg, 0), "");
    CHECK(tscb_callback_message_request_id(msg) == NULL);
    CHECK(tscb_callback_message_username(msg) == NULL);
    CHECK(tscb_callback_message_password(msg) == NULL);
    CHECK(tscb_callback_message_status(msg) == NULL);
    CHECK(tscb_callback_message_fault_code(msg) == NULL);
    CHECK(tscb_callback_message_fault_message(msg) == NULL);
    tscb_callback_message_free(msg);

    msg = parse_ok("{}");
    CHECK(tscb_callback_message_callback_count(msg) == -1);
    CHECK(tscb_callback_message_device_count(msg) == 0);
    CHECK(tscb_callback_message_payload_name(msg) == NULL);
    CHECK(tscb_callback_message_payload_json(msg) == NULL);
    tscb_callback_message_free(msg);
}

static void test_bad_bodies(void) {
    const char *not_json[] = {"not json", "{\"a\":", "{} x", "<html></html>", "   "};
    for (size_t i = 0; i < sizeof not_json / sizeof not_json[0]; i++) {
        check_parse_refused(not_json[i], strlen(not_json[i]), TSCB_ERR_CALLBACK_INVALID, "Tscb.CALLBACK_INVALID.NotJson");
    }
    check_parse_refused(NULL, 0, TSCB_ERR_CALLBACK_INVALID, "Tscb.CALLBACK_INVALID.NotJson");
    check_parse_refused("\xff\xfe{}", 4, TSCB_ERR_CALLBACK_INVALID, "Tscb.CALLBACK_INVALID.NotJson");
    /* The length counts, not a NUL: the body stops after "{}". */
    check_parse_refused("{}\0garbage", 10, TSCB_ERR_CALLBACK_INVALID, "Tscb.CALLBACK_INVALID.NotJson");
    tscb_callback_message *msg = NULL;
    CHECK(tscb_callback_message_parse((const uint8_t *)"{}\0garbage", 2, &msg, NULL) == TSCB_OK);
    tscb_callback_message_free(msg);

    const char *wrong_shape[] = {
        "[]", "\"text\"", "42", "null", "{\"requestId\":42}", "{\"callbackCount\":-1}", "{\"callbackCount\":\"two\"}",
        "{\"deviceIds\":{}}", "{\"deviceIds\":[{\"kind\":\"imei\"}]}", "{\"faultResponse\":\"x\"}", "{\"password\":1}",
    };
    for (size_t i = 0; i < sizeof wrong_shape / sizeof wrong_shape[0]; i++) {
        check_parse_refused(wrong_shape[i], strlen(wrong_shape[i]), TSCB_ERR_CALLBACK_INVALID,
                            "Tscb.CALLBACK_INVALID.UnexpectedShape");
    }

    size_t big = 1024 * 1024 + 1;
    char *large = malloc(big);
    CHECK(large != NULL);
    memset(large, ' ', big);
    large[0] = '{';
    large[big - 1] = '}';
    check_parse_refused(large, big, TSCB_ERR_CALLBACK_INVALID, "Tscb.CALLBACK_INVALID.TooLarge");
    /* One byte less is exactly 1 MiB: read. */
    large[big - 2] = '}';
    msg = NULL;
    CHECK(tscb_callback_message_parse((const uint8_t *)large, big - 1, &msg, NULL) == TSCB_OK);
    tscb_callback_message_free(msg);
    free(large);
}

static void test_null_arguments(void) {
    check_parse_refused(NULL, 5, TSCB_ERR_NULL_PARAMETER, "Tscb.INPUT_INVALID.Argument.Missing");
    CHECK(tscb_callback_message_parse((const uint8_t *)"{}", 2, NULL, NULL) == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_callback_message_request_id(NULL) == NULL);
    CHECK(tscb_callback_message_payload_json(NULL) == NULL);
    CHECK(tscb_callback_message_dedup_key(NULL) == NULL);
    CHECK(tscb_callback_message_callback_count(NULL) == -1);
    CHECK(tscb_callback_message_device_count(NULL) == 0);
    CHECK(tscb_callback_message_device_id(NULL, 0) == NULL);
    tscb_callback_message_free(NULL);

    tscb_callback_verifier *v = NULL;
    CHECK(tscb_callback_verifier_new(NULL, NULL, NULL, NULL) == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_callback_verifier_new("\xff", NULL, &v, NULL) == TSCB_ERR_INVALID_UTF8);
    CHECK(v == NULL);
    CHECK(tscb_callback_verifier_new(NULL, NULL, &v, NULL) == TSCB_OK);
    CHECK(tscb_callback_verifier_allow_source(NULL, "10.0.0.1") == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_callback_verifier_allow_source(v, NULL) == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_callback_verifier_allow_any_source(NULL) == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_callback_verifier_set_previous_password(NULL, "x", 1) == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_callback_verifier_set_previous_password(v, NULL, 1) == TSCB_ERR_NULL_PARAMETER);
    tscb_callback_message *msg = NULL;
    CHECK(tscb_callback_verifier_verify(NULL, VERIZON, (const uint8_t *)"{}", 2, &msg, NULL) ==
          TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_callback_verifier_verify(v, NULL, (const uint8_t *)"{}", 2, &msg, NULL) == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_callback_answer_status(NULL) == 500);
    CHECK(tscb_callback_verifier_verify(v, VERIZON, (const uint8_t *)"{}", 2, NULL, NULL) == TSCB_ERR_NULL_PARAMETER);
    CHECK(tscb_callback_verifier_verify(v, "\xff", (const uint8_t *)"{}", 2, &msg, NULL) == TSCB_ERR_INVALID_UTF8);
    CHECK(msg == NULL);
    tscb_callback_verifier_free(v);
    tscb_callback_verifier_free(NULL);
}

static tscb_callback_verifier *new_verifier(void) {
    tscb_callback_verifier *v = NULL;
    tscb_error *err = NULL;
    CHECK(tscb_callback_verifier_new("fleet-7", PASSWORD, &v, &err) == TSCB_OK);
    CHECK(err == NULL);
    return v;
}

/* Verifies; returns the result, checks the error code when it failed, and that no password is in it. */
static tscb_result verify(const tscb_callback_verifier *v, const char *source, const char *body, const char *code) {
    tscb_callback_message *msg = NULL;
    tscb_error *err = NULL;
    tscb_result r = tscb_callback_verifier_verify(v, source, (const uint8_t *)body, strlen(body), &msg, &err);
    if (r == TSCB_OK) {
        CHECK(msg != NULL && err == NULL);
        CHECK(code == NULL);
        if (code != NULL) {
            fprintf(stderr, "accepted from %s, expected %s: %s\n", source, code, body);
        }
        tscb_callback_message_free(msg);
        return r;
    }
    CHECK(msg == NULL && err != NULL);
    if (code != NULL) {
        CHECK_STR(tscb_error_code(err), code);
        CHECK(tscb_callback_answer_status(err) == expected_answer(code));
    } else {
        fprintf(stderr, "refused from %s: %s\n", source, tscb_error_message(err));
        CHECK(code != NULL);
    }
    char *json = tscb_error_to_json(err);
    const char *secrets[] = {PASSWORD, OLD_PASSWORD, "Wr0ng-But-S3cret"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        CHECK(strstr(tscb_error_message(err), secrets[i]) == NULL);
        CHECK(strstr(json, secrets[i]) == NULL);
    }
    tscb_string_free(json);
    tscb_error_free(err);
    return r;
}

#define SOURCE "Tscb.CALLBACK_REJECTED.Source"
#define CREDENTIALS "Tscb.CALLBACK_REJECTED.Credentials"

static void test_credentials(void) {
    tscb_callback_verifier *v = new_verifier();
    char *good = body_with("fleet-7", PASSWORD, 1);
    char *wrong_user = body_with("fleet-8", PASSWORD, 1);
    char *wrong_password = body_with("fleet-7", "Wr0ng-But-S3cret", 1);
    char *empty_password = body_with("fleet-7", "", 1);
    CHECK(verify(v, VERIZON, good, NULL) == TSCB_OK);
    CHECK(verify(v, "168.62.173.153", good, NULL) == TSCB_OK);
    CHECK(verify(v, VERIZON, wrong_user, CREDENTIALS) == TSCB_ERR_CALLBACK_REJECTED);
    CHECK(verify(v, VERIZON, wrong_password, CREDENTIALS) == TSCB_ERR_CALLBACK_REJECTED);
    CHECK(verify(v, VERIZON, empty_password, CREDENTIALS) == TSCB_ERR_CALLBACK_REJECTED);
    CHECK(verify(v, VERIZON, "{\"username\":\"fleet-7\"}", CREDENTIALS) == TSCB_ERR_CALLBACK_REJECTED);
    /* Parsed before credentials are compared: a bad body is "invalid", not "rejected". */
    CHECK(verify(v, VERIZON, "[1]", "Tscb.CALLBACK_INVALID.UnexpectedShape") == TSCB_ERR_CALLBACK_INVALID);
    tscb_callback_verifier_free(v);

    /* NULL credentials are not checked. */
    tscb_callback_verifier *open = NULL;
    CHECK(tscb_callback_verifier_new(NULL, NULL, &open, NULL) == TSCB_OK);
    CHECK(verify(open, VERIZON, wrong_password, NULL) == TSCB_OK);
    tscb_callback_verifier_free(open);
    free(good);
    free(wrong_user);
    free(wrong_password);
    free(empty_password);
}

static void test_sources(void) {
    char *good = body_with("fleet-7", PASSWORD, 1);
    tscb_callback_verifier *v = new_verifier();
    CHECK(verify(v, "192.0.2.1", good, SOURCE) == TSCB_ERR_CALLBACK_REJECTED);
    CHECK(verify(v, "::1", good, SOURCE) == TSCB_ERR_CALLBACK_REJECTED);
    CHECK(verify(v, "::ffff:" VERIZON, good, NULL) == TSCB_OK);
    /* The source is checked before the body is read. */
    CHECK(verify(v, "192.0.2.1", "garbage", SOURCE) == TSCB_ERR_CALLBACK_REJECTED);
    CHECK(verify(v, "not an address", good, "Tscb.INPUT_INVALID.SourceAddress.Malformed") == TSCB_ERR_INVALID_INPUT);
    CHECK(tscb_callback_verifier_check_source(v, VERIZON, NULL) == TSCB_OK);
    CHECK(tscb_callback_verifier_check_source(v, "192.0.2.1", NULL) == TSCB_ERR_CALLBACK_REJECTED);
    CHECK(tscb_callback_verifier_check_source(v, "nope", NULL) == TSCB_ERR_INVALID_INPUT);
    CHECK(tscb_callback_verifier_check_source(NULL, VERIZON, NULL) == TSCB_ERR_NULL_PARAMETER);

    CHECK(tscb_callback_verifier_allow_source(v, "10.20.0.0/16") == TSCB_OK);
    CHECK(tscb_callback_verifier_allow_source(v, "2001:db8:7::/48") == TSCB_OK);
    CHECK(tscb_callback_verifier_allow_source(v, "203.0.113.9") == TSCB_OK);
    CHECK(tscb_callback_verifier_error(v, NULL) == TSCB_OK);
    CHECK(tscb_callback_verifier_allow_source(v, "10.0.0.0/33") == TSCB_ERR_INVALID_INPUT);
    CHECK(tscb_callback_verifier_allow_source(v, "example.com") == TSCB_ERR_INVALID_INPUT);
    /* The verifier keeps the first setter's error, with the library's code and message. */
    {
        tscb_error *err = NULL;
        CHECK(tscb_callback_verifier_error(v, &err) == TSCB_ERR_INVALID_INPUT);
        CHECK_STR(tscb_error_code(err), "Tscb.INPUT_INVALID.SourceAddress.Malformed");
        CHECK(strstr(tscb_error_message(err), "10.0.0.0/33") != NULL);
        tscb_error_free(err);
        err = NULL;
        CHECK(tscb_callback_verifier_error(NULL, &err) == TSCB_ERR_NULL_PARAMETER);
        CHECK_STR(tscb_error_code(err), "Tscb.INPUT_INVALID.Argument.Missing");
        tscb_error_free(err);
    }
    CHECK(verify(v, "10.20.9.9", good, NULL) == TSCB_OK);
    CHECK(verify(v, "::ffff:10.20.9.9", good, NULL) == TSCB_OK);
    CHECK(verify(v, "2001:db8:7:1::5", good, NULL) == TSCB_OK);
    CHECK(verify(v, "203.0.113.9", good, NULL) == TSCB_OK);
    CHECK(verify(v, "10.21.0.1", good, SOURCE) == TSCB_ERR_CALLBACK_REJECTED);
    CHECK(verify(v, "2001:db8:8::1", good, SOURCE) == TSCB_ERR_CALLBACK_REJECTED);
    CHECK(verify(v, "203.0.113.10", good, SOURCE) == TSCB_ERR_CALLBACK_REJECTED);
    /* The first allow_source replaced the Verizon list. */
    CHECK(verify(v, VERIZON, good, SOURCE) == TSCB_ERR_CALLBACK_REJECTED);

    CHECK(tscb_callback_verifier_allow_any_source(v) == TSCB_OK);
    CHECK(verify(v, "192.0.2.1", good, NULL) == TSCB_OK);
    CHECK(verify(v, "::1", good, NULL) == TSCB_OK);
    tscb_callback_verifier_free(v);
    free(good);
}

static void test_rotation(void) {
    char *old = body_with("fleet-7", OLD_PASSWORD, 1);
    char *current = body_with("fleet-7", PASSWORD, 1);
    tscb_callback_verifier *v = new_verifier();
    CHECK(verify(v, VERIZON, old, CREDENTIALS) == TSCB_ERR_CALLBACK_REJECTED);
    /* The password and its window arrive: a long window lets the old password in, an empty one
     * refuses it at once. That a window ends when it should is core's experiment
     * (core/tests/callback.rs). */
    CHECK(tscb_callback_verifier_set_previous_password(v, OLD_PASSWORD, 60000) == TSCB_OK);
    CHECK(verify(v, VERIZON, old, NULL) == TSCB_OK);
    CHECK(verify(v, VERIZON, current, NULL) == TSCB_OK);
    CHECK(tscb_callback_verifier_set_previous_password(v, OLD_PASSWORD, 0) == TSCB_OK);
    CHECK(verify(v, VERIZON, old, CREDENTIALS) == TSCB_ERR_CALLBACK_REJECTED);
    CHECK(verify(v, VERIZON, current, NULL) == TSCB_OK);
    tscb_callback_verifier_free(v);
    free(old);
    free(current);
}

static void test_resends_share_a_dedup_key(void) {
    char *first = body_with("fleet-7", PASSWORD, 1);
    char *resend = body_with("fleet-7", PASSWORD, 2);
    char *rotated = body_with("fleet-7", OLD_PASSWORD, 3);
    char *other = body_with("fleet-7", PASSWORD, 1);
    memcpy(strstr(other, "req-1"), "req-2", 5);
    tscb_callback_message *a = parse_ok(first), *b = parse_ok(resend), *c = parse_ok(rotated), *d = parse_ok(other);
    CHECK_STR(tscb_callback_message_dedup_key(b), tscb_callback_message_dedup_key(a));
    CHECK_STR(tscb_callback_message_dedup_key(c), tscb_callback_message_dedup_key(a));
    CHECK(strcmp(tscb_callback_message_dedup_key(d), tscb_callback_message_dedup_key(a)) != 0);
    CHECK(tscb_callback_message_callback_count(b) == 2);
    tscb_callback_message_free(a);
    tscb_callback_message_free(b);
    tscb_callback_message_free(c);
    tscb_callback_message_free(d);
    free(first);
    free(resend);
    free(rotated);
    free(other);
}

static void *verify_many(void *arg) {
    const tscb_callback_verifier *v = arg;
    char *good = body_with("fleet-7", PASSWORD, 1);
    for (int i = 0; i < 200; i++) {
        tscb_callback_message *msg = NULL;
        if (tscb_callback_verifier_verify(v, VERIZON, (const uint8_t *)good, strlen(good), &msg, NULL) != TSCB_OK) {
            free(good);
            return (void *)1;
        }
        tscb_callback_message_free(msg);
    }
    free(good);
    return NULL;
}

static void test_one_verifier_many_threads(void) {
    tscb_callback_verifier *v = new_verifier();
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        CHECK(pthread_create(&threads[i], NULL, verify_many, v) == 0);
    }
    for (int i = 0; i < 4; i++) {
        void *failed = NULL;
        pthread_join(threads[i], &failed);
        CHECK(failed == NULL);
    }
    tscb_callback_verifier_free(v);
}

/* The defaults, limits and lists the header exports are the ones the library applies. */
static void test_exported_defaults_and_lists(void) {
    CHECK(TSCB_MAX_CALLBACK_BYTES == 1024 * 1024);
    CHECK(TSCB_DEFAULT_PREVIOUS_PASSWORD_WINDOW_MS == 15 * 60 * 1000);
    CHECK(TSCB_DEFAULT_CALL_TIMEOUT_MS == 120000 && TSCB_DEFAULT_TIMEOUT_MS == 30000 &&
          TSCB_DEFAULT_CONNECT_TIMEOUT_MS == 10000 && TSCB_MAX_TIMEOUT_MS == 86400000);
    CHECK(TSCB_MAX_CREDENTIAL_CHARS == 40);

    /* A new verifier allows exactly the listed sources. */
    tscb_callback_verifier *v = new_verifier();
    CHECK(tscb_verizon_callback_source_count() == 8);
    for (size_t i = 0; i < tscb_verizon_callback_source_count(); i++) {
        CHECK(tscb_callback_verifier_check_source(v, tscb_verizon_callback_source(i), NULL) == TSCB_OK);
    }
    CHECK_STR(tscb_verizon_callback_source(0), VERIZON);
    CHECK(tscb_verizon_callback_source(tscb_verizon_callback_source_count()) == NULL);
    tscb_callback_verifier_free(v);

    uint16_t first = 1, last = 1;
    int has_443 = 0;
    CHECK(tscb_callback_port_range_count() == 5);
    for (size_t i = 0; i < tscb_callback_port_range_count(); i++) {
        CHECK(tscb_callback_port_range(i, &first, &last) == 1);
        CHECK(first <= last);
        has_443 |= first <= 443 && 443 <= last;
    }
    CHECK(has_443);
    CHECK(tscb_callback_port_range(1, &first, &last) == 1 && first == 443 && last == 443);
    CHECK(tscb_callback_port_range(tscb_callback_port_range_count(), &first, &last) == 0);
    CHECK(first == 443 && last == 443); /* out of range: nothing written */
    CHECK(tscb_callback_port_range(0, NULL, NULL) == 1);
}

int main(void) {
    test_result_strings();
    test_exported_defaults_and_lists();
    test_the_documented_fault_example();
    test_unknown_fields_and_absent_ones();
    test_bad_bodies();
    test_null_arguments();
    test_credentials();
    test_sources();
    test_rotation();
    test_resends_share_a_dedup_key();
    test_one_verifier_many_threads();
    return check_summary("test_callback");
}
