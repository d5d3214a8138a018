/* The call timeout and the login guard file through the C API: each setting reaches the client
 * and each outcome its result and code. How long a call takes and the guard file's mode are
 * core's experiments (core/tests/deadline.rs, core/tests/guard.rs). Included by test_tscb.c
 * (after its helpers), so that run.sh builds one test program in every configuration. */
#ifndef TSCB_TEST_DEADLINE_GUARD_H
#define TSCB_TEST_DEADLINE_GUARD_H

static tscb_client *new_guarded_client(const char *password, const char *guard_file, uint64_t call_timeout_ms) {
    tscb_client_builder *b = tscb_client_builder_new();
    CHECK(tscb_client_builder_set_base_url(b, sim_url()) == TSCB_OK);
    CHECK(tscb_client_builder_set_credentials(b, sim_credential("client id"), sim_credential("client secret"), sim_credential("login username"), password) ==
          TSCB_OK);
    if (guard_file != NULL) CHECK(tscb_client_builder_set_login_guard_file(b, guard_file) == TSCB_OK);
    if (call_timeout_ms != 0) CHECK(tscb_client_builder_set_call_timeout_ms(b, call_timeout_ms) == TSCB_OK);
    tscb_client *client = NULL;
    CHECK(tscb_client_builder_build(b, &client, NULL) == TSCB_OK);
    return client;
}

static void test_call_timeout(void) {
    sim_reset();
    /* A token endpoint slower than the whole call may take, but not than one request may: only
     * the call timeout can end it, so TSCB_ERR_TIMEOUT shows the setting arrived. */
    CHECK(sim_admin("POST", "/__admin/faults",
                    "{\"action\":\"delay\",\"ms\":5000,\"times\":1,\"path_contains\":\"/oauth2/token\"}", NULL) == 204);
    tscb_client *c = new_guarded_client(sim_credential("login password"), NULL, 1000);
    tscb_error *err = NULL;
    CHECK(tscb_login(c, &err) == TSCB_ERR_TIMEOUT);
    CHECK_STR(tscb_error_code(err), "Tscb.REQUEST_FAILED.Timeout");
    tscb_error_free(err);
    tscb_client_free(c);

    CHECK(tscb_client_builder_set_call_timeout_ms(NULL, 1000) == TSCB_ERR_NULL_PARAMETER);
    tscb_client_builder *b = tscb_client_builder_new();
    tscb_client_builder_set_bearer_token(b, "b");
    tscb_client_builder_set_session_token(b, "s");
    CHECK(tscb_client_builder_set_call_timeout_ms(b, 0) == TSCB_OK);
    tscb_client *none = NULL;
    err = NULL;
    CHECK(tscb_client_builder_build(b, &none, &err) == TSCB_ERR_INVALID_INPUT);
    CHECK_STR(tscb_error_code(err), "Tscb.INPUT_INVALID.Timeout.Zero");
    CHECK(none == NULL);
    tscb_error_free(err);
}

static void test_login_guard_file(void) {
    sim_reset();
    char dir[] = "/tmp/tscb-c-guard-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char file[256], corrupt[256];
    snprintf(file, sizeof file, "%s/state/refused-logins", dir);
    snprintf(corrupt, sizeof corrupt, "%s/corrupt", dir);

    /* A refused login, then a new client with the same file: nothing sent, LoginBlocked. */
    tscb_client *first = new_guarded_client("wrong-password", file, 0);
    tscb_error *err = NULL;
    CHECK(tscb_login(first, &err) == TSCB_ERR_AUTH);
    CHECK_STR(tscb_error_code(err), "UnifiedWebService.REQUEST_FAILED.UserNotAuthorized");
    tscb_error_free(err);
    CHECK(tscb_client_login_guard_warning(first) == NULL);
    tscb_client_free(first);
    tscb_client *second = new_guarded_client("wrong-password", file, 0);
    err = NULL;
    CHECK(tscb_login(second, &err) == TSCB_ERR_AUTH);
    CHECK_STR(tscb_error_code(err), "Tscb.REQUEST_FAILED.LoginBlocked");
    CHECK(strstr(tscb_error_message(err), "wrong-password") == NULL);
    tscb_error_free(err);
    tscb_client_free(second);
    CHECK(sim_count_path("/session/login") == 1);

    /* Ignoring the guard: the login is sent again (and refused again). */
    tscb_client_builder *ignoring = tscb_client_builder_new();
    CHECK(tscb_client_builder_set_base_url(ignoring, sim_url()) == TSCB_OK);
    CHECK(tscb_client_builder_set_credentials(ignoring, sim_credential("client id"), sim_credential("client secret"),
                                              sim_credential("login username"), "wrong-password") == TSCB_OK);
    CHECK(tscb_client_builder_set_login_guard_file(ignoring, file) == TSCB_OK);
    CHECK(tscb_client_builder_set_ignore_login_guard(ignoring, 1) == TSCB_OK);
    CHECK(tscb_client_builder_set_ignore_login_guard(NULL, 1) == TSCB_ERR_NULL_PARAMETER);
    tscb_client *third = NULL;
    CHECK(tscb_client_builder_build(ignoring, &third, NULL) == TSCB_OK);
    err = NULL;
    CHECK(tscb_login(third, &err) == TSCB_ERR_AUTH);
    CHECK_STR(tscb_error_code(err), "UnifiedWebService.REQUEST_FAILED.UserNotAuthorized");
    tscb_error_free(err);
    tscb_client_free(third);
    CHECK(sim_count_path("/session/login") == 2);

    /* A corrupt file never stops a login, and is reported once. */
    FILE *f = fopen(corrupt, "w");
    CHECK(f != NULL);
    fputs("not a guard file\n", f);
    fclose(f);
    tscb_client *c = new_guarded_client(sim_credential("login password"), corrupt, 0);
    CHECK(tscb_login(c, NULL) == TSCB_OK);
    char *warning = tscb_client_login_guard_warning(c);
    CHECK(warning != NULL && strstr(warning, "not in the expected form") != NULL);
    tscb_string_free(warning);
    CHECK(tscb_client_login_guard_warning(c) == NULL);
    tscb_client_free(c);

    CHECK(tscb_client_login_guard_warning(NULL) == NULL);
    CHECK(tscb_client_builder_set_login_guard_file(NULL, file) == TSCB_ERR_NULL_PARAMETER);
    tscb_client_builder *b = tscb_client_builder_new();
    CHECK(tscb_client_builder_set_login_guard_file(b, NULL) == TSCB_ERR_NULL_PARAMETER);
    tscb_client_builder_free(b);

    unlink(file);
    unlink(corrupt);
    char state[256];
    snprintf(state, sizeof state, "%s/state", dir);
    rmdir(state);
    rmdir(dir);
}

#endif
