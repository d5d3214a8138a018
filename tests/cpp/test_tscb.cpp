// The C API from C++17: the header compiles as C++ (extern "C" guards), and RAII wrappers
// hold every object, as a C++ user would write them.
#include <tscb.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

int passed = 0;
int failed = 0;

void check(bool ok, const char *what, int line) {
    if (ok) {
        ++passed;
    } else {
        ++failed;
        std::fprintf(stderr, "test_tscb.cpp:%d: check failed: %s\n", line, what);
    }
}
#define CHECK(cond) check((cond), #cond, __LINE__)

struct ClientFree { void operator()(tscb_client *c) const noexcept { tscb_client_free(c); } };
struct ErrorFree { void operator()(tscb_error *e) const noexcept { tscb_error_free(e); } };
struct AckFree { void operator()(tscb_callback_ack *a) const noexcept { tscb_callback_ack_free(a); } };
struct ListFree { void operator()(tscb_callback_list *l) const noexcept { tscb_callback_list_free(l); } };
using Client = std::unique_ptr<tscb_client, ClientFree>;
using Error = std::unique_ptr<tscb_error, ErrorFree>;
using Ack = std::unique_ptr<tscb_callback_ack, AckFree>;
using List = std::unique_ptr<tscb_callback_list, ListFree>;

// A C string as std::string; NULL (a failed call's accessor) is a failed check, not an abort.
std::string text(const char *s) { return s ? std::string(s) : std::string("<NULL>"); }

Client make_client(const std::string &base_url) {
    tscb_client_builder *b = tscb_client_builder_new();
    tscb_client_builder_set_base_url(b, base_url.c_str());
    tscb_client_builder_set_bearer_token(b, "sim-bearer-token");
    tscb_client_builder_set_session_token(b, "sim-session-token");
    tscb_client *raw = nullptr;
    tscb_error *err = nullptr;
    tscb_result r = tscb_client_builder_build(b, &raw, &err);
    Error guard(err);
    CHECK(r == TSCB_OK);
    return Client(raw);
}

}  // namespace

int main() {
    const char *url = std::getenv("TSCB_SIM_URL");
    if (url == nullptr) {
        std::fprintf(stderr, "TSCB_SIM_URL is not set\n");
        return 2;
    }
    Client client = make_client(url);
    const std::string account = "TestAccount-1";

    {
        tscb_callback_ack *raw = nullptr;
        tscb_error *err = nullptr;
        tscb_result r = tscb_register_callback(client.get(), account.c_str(), "DeviceService",
                                               "https://cpp.example.com/cb", "cpp-user", nullptr, &raw, &err);
        Ack ack(raw);
        Error error(err);
        CHECK(r == TSCB_OK);
        CHECK(ack && text(tscb_callback_ack_service_name(ack.get())) == "DeviceService");
    }

    // Four std::threads share the client.
    std::vector<std::thread> threads;
    std::vector<int> failures(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 50; ++i) {
                tscb_callback_list *raw = nullptr;
                if (tscb_list_callbacks(client.get(), account.c_str(), &raw, nullptr) != TSCB_OK) ++failures[t];
                List list(raw);
                if (tscb_callback_list_len(list.get()) != 1) ++failures[t];
            }
        });
    }
    for (auto &th : threads) th.join();
    for (int f : failures) CHECK(f == 0);

    {
        tscb_callback_list *raw = nullptr;
        CHECK(tscb_list_callbacks(client.get(), account.c_str(), &raw, nullptr) == TSCB_OK);
        List list(raw);
        CHECK(tscb_callback_list_len(list.get()) == 1);
        CHECK(text(tscb_callback_list_username(list.get(), 0)) == "cpp-user");
        CHECK(tscb_callback_list_password(list.get(), 0) == nullptr);
    }
    {
        tscb_callback_ack *raw = nullptr;
        tscb_error *err = nullptr;
        tscb_result r = tscb_deregister_callback(client.get(), account.c_str(), "NotRegistered", &raw, &err);
        Error error(err);
        CHECK(r == TSCB_ERR_API);
        CHECK(raw == nullptr);
        CHECK(tscb_error_http_status(error.get()) == 400);
        CHECK(std::strstr(tscb_error_code(error.get()), "REQUEST_FAILED") != nullptr);
    }
    {
        tscb_callback_ack *raw = nullptr;
        CHECK(tscb_deregister_callback(client.get(), account.c_str(), "DeviceService", &raw, nullptr) == TSCB_OK);
        Ack ack(raw);
    }
    std::printf("tscb_cpp: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
