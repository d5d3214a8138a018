// tscb.hpp's client against tscb-sim: every call, every error kind a client call can meet mapped
// to tscb::Error's data (faults injected in the simulator, as the C tests do), the builder's
// setters and from_env(), and moves (each handle freed once: ASan and valgrind run this too).
#include <tscb.hpp>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../c/sim_admin.h"
#include "check.hpp"

namespace {

const char *const ACCOUNT = "TestAccount-1";
const char *const LISTENER = "https://listener.example.com/cb";

tscb::ClientBuilder sim_builder() {
    tscb::ClientBuilder b;
    b.base_url(sim_url()).bearer_token(sim_credential("bearer token")).session_token(sim_credential("session token"));
    return b;
}

tscb::Client signing_in_client(const char *login_password) {
    return tscb::ClientBuilder()
        .base_url(sim_url())
        .credentials(sim_credential("client id"), sim_credential("client secret"), sim_credential("login username"),
                     login_password)
        .build();
}

void fault(const char *json) { CHECK(sim_admin("POST", "/__admin/faults", json, nullptr) == 204); }

void test_calls() {
    sim_reset();
    const tscb::Client client = sim_builder().build();
    tscb::CallbackAck ack = client.register_callback(
        ACCOUNT, tscb::CallbackRegistration("CarrierService", LISTENER).with_username("cpp-user").with_password("Pa55-word"));
    CHECK(ack.account_name == ACCOUNT);
    CHECK(ack.service_name == "CarrierService");
    client.register_callback(ACCOUNT, tscb::CallbackRegistration("DeviceService", "https://other.example.com/cb"));

    std::vector<tscb::RegisteredCallback> list = client.list_callbacks(ACCOUNT);
    CHECK(list.size() == 2);
    for (const tscb::RegisteredCallback &cb : list) {
        CHECK(cb.account_name == ACCOUNT);
        if (cb.service_name == "CarrierService") {
            CHECK(cb.url == LISTENER);
            CHECK(cb.username == std::optional<std::string>("cpp-user"));
            CHECK(cb.password == std::optional<std::string>("Pa55-word"));
        } else {
            CHECK(cb.service_name == "DeviceService");
            CHECK(!cb.username.has_value());
            CHECK(!cb.password.has_value());
        }
    }

    ack = client.deregister_callback(ACCOUNT, "CarrierService");
    CHECK(ack.service_name == "CarrierService");
    client.deregister_callback(ACCOUNT, "DeviceService");
    CHECK(client.list_callbacks(ACCOUNT).empty());
    // string_views that are not NUL-terminated are passed as far as they go.
    const std::string padded = "TestAccount-1XYZ";
    CHECK(client.list_callbacks(std::string_view(padded).substr(0, 13)).empty());
    // Fixed tokens: login() sends nothing. (logout() is in test_sign_in: here it would end the
    // simulator's one fixed session, which the other tests use.)
    client.login();
    CHECK(sim_request_count() == 7);
    CHECK(!client.login_guard_warning().has_value());
    CHECK(client.c_handle() != nullptr);
}

void test_error_kinds() {
    sim_reset();
    const tscb::Client client = sim_builder().max_retries(0).call_timeout(std::chrono::seconds(5)).build();
    const auto reg = tscb::CallbackRegistration("CarrierService", LISTENER);

    // Refused before anything is sent: no HTTP status.
    CHECK_THROWS(client.register_callback(ACCOUNT, tscb::CallbackRegistration("CarrierService", "https://x.example.com:8443/cb")),
                 InvalidInput, "Tscb.INPUT_INVALID.CallbackUrl.Port", std::nullopt);
    // sent() and field(): from the C error, as core says them.
    std::optional<tscb::Error> bad_port = test::error_of(
        [&] { client.register_callback(ACCOUNT, tscb::CallbackRegistration("CarrierService", "https://x.example.com:8443/cb")); },
        __LINE__);
    CHECK(bad_port && bad_port->sent() == tscb::Sent::No);
    CHECK(bad_port && bad_port->field() == std::optional<std::string_view>("CallbackUrl"));
    CHECK_THROWS(client.register_callback(ACCOUNT, tscb::CallbackRegistration("CarrierService", LISTENER).with_password(std::string(41, 'p'))),
                 InvalidInput, "Tscb.INPUT_INVALID.Password.TooLong", std::nullopt);
    CHECK_THROWS(client.deregister_callback(ACCOUNT, "a b"), InvalidInput, "Tscb.INPUT_INVALID.ServiceName.InvalidCharacter",
                 std::nullopt);
    CHECK_THROWS(client.list_callbacks("bad\xff"), InvalidUtf8, "Tscb.INPUT_INVALID.Argument.Encoding", std::nullopt);
    // A NUL inside a string_view would cut the C string short: refused, never truncated.
    using namespace std::string_view_literals;
    CHECK_THROWS(client.list_callbacks("TestAccount-1\0evil"sv), InvalidInput, "Tscb.INPUT_INVALID.Argument.Encoding",
                 std::nullopt);
    CHECK_THROWS(client.register_callback(ACCOUNT, tscb::CallbackRegistration("CarrierService", LISTENER).with_username("u\0v"sv)),
                 InvalidInput, "Tscb.INPUT_INVALID.Argument.Encoding", std::nullopt);
    CHECK(sim_request_count() == 0);

    // The service's own error, with its code, message and status.
    fault("{\"action\":\"respond\",\"times\":1,\"status\":400,\"content_type\":\"application/json\","
          "\"body\":\"{\\\"errorCode\\\":\\\"UnifiedWebService.REQUEST_FAILED.UnexpectedError\\\","
          "\\\"errorMessage\\\":\\\"Something went wrong\\\"}\"}");
    CHECK_THROWS(client.register_callback(ACCOUNT, reg), Api, "UnifiedWebService.REQUEST_FAILED.UnexpectedError", 400);
    std::optional<tscb::Error> api = test::error_of([&] { client.list_callbacks("NoSuchAccount"); }, __LINE__);
    CHECK(api && api->code() == "UnifiedWebService.REQUEST_FAILED.AccountNotFound");
    CHECK(api && api->sent() == tscb::Sent::Yes && !api->field());
    CHECK(api && api->to_json().rfind("{\"errorCode\":\"UnifiedWebService.REQUEST_FAILED.AccountNotFound\"", 0) == 0);
    // Catchable as std::runtime_error, and a copy keeps the data.
    try {
        client.list_callbacks("NoSuchAccount");
        CHECK(false);
    } catch (const std::runtime_error &e) {
        const auto *te = dynamic_cast<const tscb::Error *>(&e);
        CHECK(te != nullptr);
        if (te != nullptr) {
            tscb::Error copy = *te;
            CHECK(copy.kind() == tscb::ErrorKind::Api && copy.http_status() == 400 && copy.message() == te->message());
        }
    }

    fault("{\"action\":\"respond\",\"times\":1,\"status\":200,\"content_type\":\"text/plain\",\"body\":\"not json\"}");
    CHECK_THROWS(client.list_callbacks(ACCOUNT), InvalidResponse, "Tscb.RESPONSE_INVALID.NotJson", 200);
    fault("{\"action\":\"reset\",\"times\":1}");
    CHECK_THROWS(client.list_callbacks(ACCOUNT), Transport, "Tscb.REQUEST_FAILED.Transport", std::nullopt);
    fault("{\"action\":\"delay\",\"ms\":10000,\"times\":1}");
    const tscb::Client impatient = sim_builder().call_timeout(std::chrono::milliseconds(300)).build();
    CHECK_THROWS(impatient.list_callbacks(ACCOUNT), Timeout, "Tscb.REQUEST_FAILED.Timeout", std::nullopt);
    fault("{\"action\":\"delay\",\"ms\":10000,\"times\":1}");
    std::optional<tscb::Error> late = test::error_of([&] { impatient.list_callbacks(ACCOUNT); }, __LINE__);
    CHECK(late && late->sent() == tscb::Sent::Maybe && !late->field());

    // A refused bearer token: the gateway's code.
    const tscb::Client refused = tscb::ClientBuilder().base_url(sim_url()).bearer_token("wrong-token").session_token("s").build();
    CHECK_THROWS(refused.list_callbacks(ACCOUNT), Auth, "900901", 401);
}

void test_sign_in() {
    sim_reset();
    const tscb::Client client = signing_in_client(sim_credential("login password"));
    client.login();
    CHECK(sim_count_path("/session/login") == 1);
    CHECK(client.list_callbacks(ACCOUNT).empty());
    client.logout();
    CHECK(sim_count_path("/session/logout") == 1);
    CHECK(client.list_callbacks(ACCOUNT).empty());
    CHECK(sim_count_path("/session/login") == 2);

    sim_reset();
    const tscb::Client wrong = signing_in_client("wrong-password");
    CHECK_THROWS(wrong.login(), Auth, "UnifiedWebService.REQUEST_FAILED.UserNotAuthorized", 400);
}

void test_builder() {
    sim_reset();
    // Every setter, then a call that works.
    const tscb::Client all = sim_builder()
                                 .user_agent("tscb-cpp-test/1")
                                 .max_retries(1)
                                 .retry_register_when_busy(true)
                                 .connect_timeout(std::chrono::seconds(5))
                                 .timeout(std::chrono::seconds(5))
                                 .call_timeout(tscb::DEFAULT_CALL_TIMEOUT)
                                 .ignore_login_guard(false)
                                 .check_callback_port(false)
                                 .allow_insecure_http(false)
                                 .no_proxy()
                                 .build();
    CHECK(all.register_callback(ACCOUNT, tscb::CallbackRegistration("CarrierService", "https://x.example.com:8443/cb"))
              .service_name == "CarrierService");
    all.deregister_callback(ACCOUNT, "CarrierService");

    CHECK_THROWS(tscb::ClientBuilder().base_url("http://example.com/api").bearer_token("b").session_token("s").build(),
                 InvalidInput, "Tscb.INPUT_INVALID.BaseUrl.Insecure", std::nullopt);
    CHECK_THROWS(sim_builder().call_timeout(std::chrono::milliseconds(0)).build(), InvalidInput,
                 "Tscb.INPUT_INVALID.Timeout.Zero", std::nullopt);
    CHECK_THROWS(sim_builder().timeout(std::chrono::milliseconds(-1)), InvalidInput, "Tscb.INPUT_INVALID.Timeout.Invalid",
                 std::nullopt);
    CHECK_THROWS(sim_builder().add_ca_file("/nonexistent/ca.pem").build(), InvalidInput, "Tscb.INPUT_INVALID.CaFile.Invalid",
                 std::nullopt);
    // (A plain-http loopback base URL never goes through a proxy: an https one does.)
    CHECK_THROWS(tscb::ClientBuilder()
                     .base_url("https://thingspace.example.com/api")
                     .bearer_token("b")
                     .session_token("s")
                     .proxy("socks5://proxy.example.com:1080")
                     .build(),
                 InvalidInput, "Tscb.INPUT_INVALID.Proxy.Invalid", std::nullopt);
    CHECK_THROWS(sim_builder().login_guard_file(std::string_view("a\0b", 3)), InvalidInput,
                 "Tscb.INPUT_INVALID.Argument.Encoding", std::nullopt);
    // A setter's own C failure (no tscb_error from C): the result's code.
    CHECK_THROWS(tscb::ClientBuilder().bearer_token("tok\xff"), InvalidUtf8, "Tscb.INPUT_INVALID.Argument.Encoding",
                 std::nullopt);
    // That error is the C library's own (kept by the C builder: tscb_client_builder_error()), not
    // one tscb.hpp makes up from the result: its message names the argument; build() fails with it.
    tscb::ClientBuilder bad = sim_builder();
    std::optional<tscb::Error> e = test::error_of([&] { bad.user_agent("ua\xff"); }, __LINE__);
    CHECK(e && e->message() == "`user_agent` is not valid UTF-8");
    CHECK(e && e->field() == std::optional<std::string_view>("Argument") && e->sent() == tscb::Sent::No);
    CHECK_THROWS(bad.build(), InvalidUtf8, "Tscb.INPUT_INVALID.Argument.Encoding", std::nullopt);

    // build() consumes the builder, whatever the outcome: using it again throws, never crashes.
    tscb::ClientBuilder used = sim_builder();
    tscb::Client built = used.build();
    CHECK_THROWS(used.base_url(sim_url()), NullParameter, "Tscb.INPUT_INVALID.Argument.Missing", std::nullopt);
    CHECK_THROWS(used.build(), NullParameter, "Tscb.INPUT_INVALID.Argument.Missing", std::nullopt);
    e = test::error_of([&] { used.max_retries(1); }, __LINE__);
    CHECK(e && e->message() == "`builder` is NULL");
    tscb::ClientBuilder failed = tscb::ClientBuilder().bearer_token("b");  // a temporary: returned by value
    CHECK_THROWS(failed.build(), InvalidInput, "Tscb.INPUT_INVALID.SessionToken.Missing", std::nullopt);
    CHECK_THROWS(failed.build(), NullParameter, "Tscb.INPUT_INVALID.Argument.Missing", std::nullopt);
    CHECK(sim_request_count() == 2);
}

void test_from_env() {
    for (const char *name : {"THINGSPACE_CLIENT_ID", "THINGSPACE_CLIENT_SECRET", "THINGSPACE_LOGIN_USERNAME",
                             "THINGSPACE_LOGIN_PASSWORD", "THINGSPACE_BEARER_TOKEN", "THINGSPACE_SESSION_TOKEN",
                             "THINGSPACE_BASE_URL", "THINGSPACE_CA_FILE"}) {
        unsetenv(name);
    }
    CHECK_THROWS(tscb::ClientBuilder::from_env(), InvalidInput, "Tscb.INPUT_INVALID.BearerToken.Missing", std::nullopt);
    setenv("THINGSPACE_BASE_URL", sim_url(), 1);
    setenv("THINGSPACE_BEARER_TOKEN", sim_credential("bearer token"), 1);
    setenv("THINGSPACE_SESSION_TOKEN", sim_credential("session token"), 1);
    sim_reset();
    CHECK(tscb::ClientBuilder::from_env().user_agent("from-env").build().list_callbacks(ACCOUNT).empty());
    CHECK(sim_request_count() == 1);
    setenv("THINGSPACE_SESSION_TOKEN", "secret-\xff", 1);
    CHECK_THROWS(tscb::ClientBuilder::from_env(), InvalidUtf8, "Tscb.INPUT_INVALID.Argument.Encoding", std::nullopt);
    unsetenv("THINGSPACE_BASE_URL");
    unsetenv("THINGSPACE_BEARER_TOKEN");
    unsetenv("THINGSPACE_SESSION_TOKEN");
}

void test_moves() {
    sim_reset();
    tscb::Client a = sim_builder().build();
    tscb::Client b = std::move(a);  // move construction
    CHECK(b.list_callbacks(ACCOUNT).empty());
    // A moved-from client throws (the C side sees NULL), it does not crash.
    CHECK_THROWS(a.list_callbacks(ACCOUNT), NullParameter, "Tscb.INPUT_INVALID.Argument.Missing", std::nullopt);  // NOLINT
    CHECK_THROWS(a.login(), NullParameter, "Tscb.INPUT_INVALID.Argument.Missing", std::nullopt);                     // NOLINT
    CHECK(!a.login_guard_warning().has_value());                                                                  // NOLINT
    // Move assignment onto a live client frees the one it replaces (ASan and valgrind see a leak
    // or a double free otherwise), and back again.
    tscb::Client c = sim_builder().build();
    c = std::move(b);
    CHECK(c.list_callbacks(ACCOUNT).empty());
    a = std::move(c);
    CHECK(a.list_callbacks(ACCOUNT).empty());
    // Clients in a vector that grows: each moved, none copied, each freed once.
    std::vector<tscb::Client> clients;
    for (int i = 0; i < 5; ++i) clients.push_back(sim_builder().build());
    for (const tscb::Client &each : clients) CHECK(each.list_callbacks(ACCOUNT).empty());
    tscb::ClientBuilder moved = sim_builder();
    tscb::ClientBuilder target;
    target = std::move(moved);
    CHECK(target.build().list_callbacks(ACCOUNT).empty());
}

void test_threads_share_a_client() {
    sim_reset();
    const tscb::Client client = sim_builder().build();
    const char *env = std::getenv("TSCB_TEST_THREAD_CALLS");
    const int calls = env != nullptr ? std::atoi(env) : 50;
    std::vector<int> failures(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < calls; ++i) {
                try {
                    if (!client.list_callbacks(ACCOUNT).empty()) ++failures[t];
                } catch (const tscb::Error &) {
                    ++failures[t];
                }
            }
        });
    }
    for (std::thread &th : threads) th.join();
    for (int f : failures) CHECK(f == 0);
}

}  // namespace

int main() {
    try {
        test_calls();
        test_error_kinds();
        test_sign_in();
        test_builder();
        test_from_env();
        test_moves();
        test_threads_share_a_client();
    } catch (const tscb::Error &e) {
        test::check(false, e.what(), __FILE__, __LINE__);
    }
    return test::report("tscb.hpp client");
}
