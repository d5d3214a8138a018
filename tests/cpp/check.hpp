// Checks for the tests of tscb.hpp: a failed check is counted and reported with its line, and
// the run goes on, so that one run shows every failure.
#ifndef TSCB_TEST_CHECK_HPP
#define TSCB_TEST_CHECK_HPP

#include <tscb.hpp>

#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace test {

inline int passed = 0;
inline int failed = 0;

inline void check(bool ok, const char *what, const char *file, int line) {
    if (ok) {
        ++passed;
    } else {
        ++failed;
        std::fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    }
}

// What a call threw: the tscb::Error, or none (it returned, or threw something else, which is
// reported).
inline std::optional<tscb::Error> error_of(const std::function<void()> &call, int line) {
    try {
        call();
    } catch (const tscb::Error &e) {
        return e;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "line %d: threw something other than tscb::Error: %s\n", line, e.what());
        return std::nullopt;
    }
    std::fprintf(stderr, "line %d: expected a tscb::Error, the call returned\n", line);
    return std::nullopt;
}

// Checks the data of the error `call` throws: kind, result (the C value), code, HTTP status.
inline void check_throws(const std::function<void()> &call, tscb::ErrorKind kind, std::string_view code,
                         std::optional<int> http_status, const char *file, int line) {
    std::optional<tscb::Error> e = error_of(call, line);
    check(e.has_value(), "throws tscb::Error", file, line);
    if (!e) return;
    check(e->kind() == kind, "kind()", file, line);
    check(e->result() == static_cast<tscb_result>(kind), "result() is the C value of kind()", file, line);
    check(e->code() == code, "code()", file, line);
    check(e->http_status() == http_status, "http_status()", file, line);
    check(std::string(e->what()) == e->code() + ": " + e->message(), "what() is code: message", file, line);
    if (e->code() != code) std::fprintf(stderr, "  got code %s (%s)\n", e->code().c_str(), e->message().c_str());
}

inline int report(const char *name) {
    std::printf("%s: %d passed, %d failed\n", name, passed, failed);
    return failed == 0 ? 0 : 1;
}

}  // namespace test

#define CHECK(cond) test::check((cond), #cond, __FILE__, __LINE__)
#define CHECK_THROWS(call, kind, code, status) \
    test::check_throws([&] { call; }, tscb::ErrorKind::kind, code, status, __FILE__, __LINE__)

#endif
