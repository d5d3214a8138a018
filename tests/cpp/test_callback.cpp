// tscb.hpp's receiving side: CallbackMessage::parse and its accessors, CallbackVerifier's source,
// credential and rotation rules, the two callback error kinds with the status a listener answers,
// and moves. Needs no server.
#include <tscb.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <utility>

#include "check.hpp"

namespace {

const char *const PASSWORD = "Corr3ct-H0rse-Battery";
const char *const OLD_PASSWORD = "0ld-Pa55w0rd-Staple";
const char *const VERIZON = "3.87.163.45";

const char FAULT_EXAMPLE[] =
    "{\"username\":\"\",\"password\":\"\",\"requestId\":\"076f7ea9-8230-49b1-9386-8dafaddc7d9e\","
    "\"deviceIds\":[{\"id\":\"20180903000000000009\",\"kind\":\"Iccid\"}],"
    "\"faultResponse\":{\"faultcode\":\"UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive\","
    "\"faultstring\":\"REQUEST_FAILED. Device is already active\"},"
    "\"status\":\"Failed\",\"callbackCount\":1,\"maxCallbackThreshold\":4}";

std::string body_with(const std::string &username, const std::string &password, int count) {
    return "{\"username\":\"" + username + "\",\"password\":\"" + password +
           "\",\"requestId\":\"req-1\",\"deviceIds\":[{\"id\":\"353238060000001\",\"kind\":\"IMEI\"}],"
           "\"deviceResponse\":{\"changeIdentifierResponse\":{\"iccid\":\"8914800000000000001\"}},"
           "\"status\":\"Success\",\"callbackCount\":" +
           std::to_string(count) + ",\"maxCallbackThreshold\":4}";
}

void test_parse() {
    tscb::CallbackMessage m = tscb::CallbackMessage::parse(FAULT_EXAMPLE);
    CHECK(m.request_id() == std::optional<std::string_view>("076f7ea9-8230-49b1-9386-8dafaddc7d9e"));
    CHECK(m.username() == std::optional<std::string_view>(""));
    CHECK(m.password() == std::optional<std::string_view>(""));
    CHECK(m.status() == std::optional<std::string_view>("Failed"));
    CHECK(m.callback_count() == 1);
    CHECK(m.max_callback_threshold() == 4);
    const std::vector<tscb::DeviceId> devices = m.device_ids();
    CHECK(devices.size() == 1);
    CHECK(!devices.empty() && devices[0].id == "20180903000000000009" && devices[0].kind == "Iccid");
    CHECK(!devices.empty() && devices[0].kind_is("ICCID") && !devices[0].kind_is("imei") && !devices[0].kind_is("Iccid2"));
    std::optional<tscb::CallbackFault> fault = m.fault();
    CHECK(fault && fault->code == "UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive");
    CHECK(fault && fault->message == "REQUEST_FAILED. Device is already active");
    CHECK(m.payload_name() == std::optional<std::string_view>("faultResponse"));
    CHECK(m.extra_json() == "{}");
    CHECK(m.dedup_key().size() == 64);
    CHECK(m.c_handle() != nullptr);

    // Absent fields are empty optionals; the body need not be NUL-terminated.
    const std::string padded = "{\"smsResponse\":{\"text\":\"hi\"},\"deliveredAt\":\"x\"}GARBAGE";
    tscb::CallbackMessage sms = tscb::CallbackMessage::parse(std::string_view(padded).substr(0, padded.size() - 7));
    CHECK(sms.payload_name() == std::optional<std::string_view>("smsResponse"));
    CHECK(sms.payload_json() == std::optional<std::string_view>("{\"text\":\"hi\"}"));
    CHECK(sms.extra_json() == "{\"deliveredAt\":\"x\"}");
    CHECK(!sms.request_id() && !sms.username() && !sms.password() && !sms.status() && !sms.fault());
    CHECK(!sms.callback_count() && !sms.max_callback_threshold() && sms.device_ids().empty());

    CHECK_THROWS(tscb::CallbackMessage::parse("not json"), CallbackInvalid, "Tscb.CALLBACK_INVALID.NotJson", std::nullopt);
    CHECK_THROWS(tscb::CallbackMessage::parse(""), CallbackInvalid, "Tscb.CALLBACK_INVALID.NotJson", std::nullopt);
    CHECK_THROWS(tscb::CallbackMessage::parse("[1]"), CallbackInvalid, "Tscb.CALLBACK_INVALID.UnexpectedShape", std::nullopt);
    const std::string huge(tscb::MAX_CALLBACK_BYTES + 1, ' ');
    CHECK_THROWS(tscb::CallbackMessage::parse(huge), CallbackInvalid, "Tscb.CALLBACK_INVALID.TooLarge", std::nullopt);
    std::optional<tscb::Error> e = test::error_of([&] { tscb::CallbackMessage::parse(huge); }, __LINE__);
    CHECK(e && e->callback_answer_status() == 413);
    e = test::error_of([&] { tscb::CallbackMessage::parse("[1]"); }, __LINE__);
    CHECK(e && e->callback_answer_status() == 400);
}

void test_verifier() {
    tscb::CallbackVerifier v("fleet-7", PASSWORD);
    const std::string good = body_with("fleet-7", PASSWORD, 1);
    tscb::CallbackMessage m = v.verify(VERIZON, good);
    CHECK(m.username() == std::optional<std::string_view>("fleet-7"));
    CHECK(m.password() == std::optional<std::string_view>(PASSWORD));
    CHECK(v.verify("::ffff:3.87.163.45", good).callback_count() == 1);

    const std::string wrong = body_with("fleet-7", "Wr0ng-But-S3cret", 1);
    CHECK_THROWS(v.verify(VERIZON, wrong), CallbackRejected, "Tscb.CALLBACK_REJECTED.Credentials", std::nullopt);
    std::optional<tscb::Error> e = test::error_of([&] { v.verify(VERIZON, wrong); }, __LINE__);
    CHECK(e && e->callback_answer_status() == 401);
    CHECK(e && std::string(e->what()).find("Wr0ng") == std::string::npos);
    CHECK_THROWS(v.verify("192.0.2.1", good), CallbackRejected, "Tscb.CALLBACK_REJECTED.Source", std::nullopt);
    e = test::error_of([&] { v.verify("192.0.2.1", good); }, __LINE__);
    CHECK(e && e->callback_answer_status() == 403);
    CHECK_THROWS(v.verify("not an address", good), InvalidInput, "Tscb.INPUT_INVALID.SourceAddress.Malformed",
                 std::nullopt);
    CHECK_THROWS(v.verify(VERIZON, "[1]"), CallbackInvalid, "Tscb.CALLBACK_INVALID.UnexpectedShape", std::nullopt);
    v.check_source(VERIZON);
    CHECK_THROWS(v.check_source("192.0.2.1"), CallbackRejected, "Tscb.CALLBACK_REJECTED.Source", std::nullopt);

    // allow_source: the first call replaces Verizon's list; a bad one leaves the verifier as it was.
    CHECK_THROWS(v.allow_source("10.0.0.0/33"), InvalidInput, "Tscb.INPUT_INVALID.SourceAddress.Malformed", std::nullopt);
    // A setter's error is the library's own (tscb_callback_verifier_error()), not one tscb.hpp
    // makes up from the result: its message names the source, its field is the source's.
    e = test::error_of([&] { v.allow_source("10.0.0.0/33"); }, __LINE__);
    CHECK(e && e->message().find("10.0.0.0/33") != std::string::npos);
    CHECK(e && e->to_json().find("10.0.0.0/33") != std::string::npos);
    CHECK(e && e->field() == std::optional<std::string_view>("SourceAddress"));
    CHECK(e && e->sent() == tscb::Sent::No);
    v.allow_source("10.20.0.0/16").allow_source("2001:db8:7::/48");
    CHECK(v.verify("10.20.9.9", good).status() == std::optional<std::string_view>("Success"));
    v.verify("2001:db8:7:1::5", good);
    CHECK_THROWS(v.verify(VERIZON, good), CallbackRejected, "Tscb.CALLBACK_REJECTED.Source", std::nullopt);
    v.allow_any_source();
    v.verify("192.0.2.1", good);

    // No credentials expected: none checked.
    const tscb::CallbackVerifier open;
    open.verify(VERIZON, wrong);
    const tscb::CallbackVerifier user_only("fleet-7", std::nullopt);
    user_only.verify(VERIZON, wrong);
    CHECK_THROWS(user_only.verify(VERIZON, body_with("fleet-8", PASSWORD, 1)), CallbackRejected,
                 "Tscb.CALLBACK_REJECTED.Credentials", std::nullopt);
}

void test_rotation() {
    const std::string old = body_with("fleet-7", OLD_PASSWORD, 1);
    const std::string current = body_with("fleet-7", PASSWORD, 1);
    tscb::CallbackVerifier v("fleet-7", PASSWORD);
    CHECK_THROWS(v.verify(VERIZON, old), CallbackRejected, "Tscb.CALLBACK_REJECTED.Credentials", std::nullopt);
    // Long enough for valgrind's slow first call, short enough to wait out.
    v.set_previous_password(OLD_PASSWORD, std::chrono::milliseconds(1500));
    v.verify(VERIZON, old);
    v.verify(VERIZON, current);
    std::this_thread::sleep_for(std::chrono::milliseconds(1600));
    CHECK_THROWS(v.verify(VERIZON, old), CallbackRejected, "Tscb.CALLBACK_REJECTED.Credentials", std::nullopt);
    v.set_previous_password(OLD_PASSWORD);  // the default window
    v.verify(VERIZON, old);
    CHECK_THROWS(v.set_previous_password(OLD_PASSWORD, std::chrono::milliseconds(-1)), InvalidInput,
                 "Tscb.INPUT_INVALID.Timeout.Invalid", std::nullopt);
}

void test_moves() {
    // A message's views stay valid across a move (the C object does not move).
    tscb::CallbackMessage a = tscb::CallbackMessage::parse(FAULT_EXAMPLE);
    const std::string_view id = *a.request_id();
    tscb::CallbackMessage b = std::move(a);
    CHECK(id == "076f7ea9-8230-49b1-9386-8dafaddc7d9e" && b.request_id() == id);
    // Moved-from: the C accessors see NULL and answer "absent", never crash.
    CHECK(!a.request_id().has_value() && a.device_ids().empty() && a.dedup_key().empty());  // NOLINT
    tscb::CallbackMessage c = tscb::CallbackMessage::parse("{}");
    c = std::move(b);  // frees the "{}" message
    CHECK(c.status() == std::optional<std::string_view>("Failed"));

    // A verifier built by chaining on a temporary, moved, and a moved-from one throws.
    tscb::CallbackVerifier v = tscb::CallbackVerifier("fleet-7", PASSWORD).allow_source("192.0.2.0/24");
    tscb::CallbackVerifier w = std::move(v);
    w.verify("192.0.2.7", body_with("fleet-7", PASSWORD, 1));
    CHECK_THROWS(v.verify("192.0.2.7", "{}"), NullParameter, "Tscb.INPUT_INVALID.Argument.Missing", std::nullopt);  // NOLINT
    CHECK_THROWS(v.allow_any_source(), NullParameter, "Tscb.INPUT_INVALID.Argument.Missing", std::nullopt);           // NOLINT
    std::optional<tscb::Error> e = test::error_of([&] { v.allow_source("10.0.0.1"); }, __LINE__);  // NOLINT
    CHECK(e && e->message() == "`verifier` is NULL");
    CHECK(e && e->field() == std::optional<std::string_view>("Argument"));
    tscb::CallbackVerifier x;
    x = std::move(w);
    x.check_source("192.0.2.8");
}

void test_lists_and_constants() {
    CHECK(!tscb::version().empty());
    CHECK(!tscb::callback_port_ranges().empty());
    bool has_443 = false;
    for (auto [first, last] : tscb::callback_port_ranges()) has_443 = has_443 || (first <= 443 && 443 <= last);
    CHECK(has_443);
    bool has_verizon = false;
    for (std::string_view s : tscb::verizon_callback_sources()) has_verizon = has_verizon || s == VERIZON;
    CHECK(has_verizon);
    CHECK(tscb::DEFAULT_CALL_TIMEOUT == std::chrono::milliseconds(TSCB_DEFAULT_CALL_TIMEOUT_MS));
    CHECK(tscb::MAX_CREDENTIAL_CHARS == 40);
    CHECK(tscb::DEFAULT_RETRY_MAX_RETRIES == TSCB_DEFAULT_RETRY_MAX_RETRIES);
    CHECK(tscb::DEFAULT_RETRY_INITIAL_BACKOFF < tscb::DEFAULT_RETRY_MAX_BACKOFF);
    CHECK(tscb::DEFAULT_RETRY_MAX_RETRY_AFTER.count() > 0);
    CHECK(tscb::default_base_url().rfind("https://", 0) == 0);
}

}  // namespace

int main() {
    try {
        test_parse();
        test_verifier();
        test_rotation();
        test_moves();
        test_lists_and_constants();
    } catch (const tscb::Error &e) {
        test::check(false, e.what(), __FILE__, __LINE__);
    }
    return test::report("tscb.hpp callbacks");
}
