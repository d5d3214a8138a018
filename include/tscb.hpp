// libtscb for C++17: RAII handles and exceptions over the C ABI in <tscb.h>.
//
// Header-only on purpose (one file, ~700 lines, over the 400-line guideline): it adds no symbol to
// libtscb, so the C header stays the one ABI (wasmtime.hh's shape), and a user links exactly as
// from C (`pkg-config --libs tscb`, or CMake's `tscb::tscb`).
//
// The rules it keeps:
//  - Every C handle lives in one std::unique_ptr with its *_free function: freed exactly once,
//    on every path; the classes that own one are move-only. A moved-from object holds NULL, and
//    a call on it throws tscb::Error (kind NullParameter) from the C side, never crashes.
//  - Every failure is a tscb::Error carrying the C error's data; destructors never throw (they
//    only call the C *_free functions, which cannot fail).
//  - std::string_view arguments are copied into NUL-terminated strings before they reach C. A
//    view with a NUL byte inside cannot be passed to C without being cut short, so it is refused
//    (with the C library's error, from tscb_check_text()) rather than silently truncated.
//  - Every error's code and message come from the C library: this header writes none of its own
//    (a setter's failure is read back with tscb_client_builder_error() or
//    tscb_callback_verifier_error()).
//  - Strings read from a CallbackMessage are views into it: valid until it is destroyed (as the
//    C accessors' strings), so its password is not copied around and is wiped when it goes.
#ifndef TSCB_HPP
#define TSCB_HPP

#include <tscb.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tscb {

/// The kind of failure: the C result (tscb_result) it came with, value for value, so that a
/// code the library adds later still fits.
enum class ErrorKind : std::uint32_t {
    NullParameter = TSCB_ERR_NULL_PARAMETER,        ///< a NULL handle: a moved-from or built builder
    InvalidUtf8 = TSCB_ERR_INVALID_UTF8,            ///< a string that is not UTF-8
    InvalidInput = TSCB_ERR_INVALID_INPUT,          ///< refused before anything was sent
    Api = TSCB_ERR_API,                             ///< the service answered with an error
    Auth = TSCB_ERR_AUTH,                           ///< the service refused the credentials
    Transport = TSCB_ERR_TRANSPORT,                 ///< the connection could not be made or broke
    Timeout = TSCB_ERR_TIMEOUT,                     ///< no complete answer in time
    InvalidResponse = TSCB_ERR_INVALID_RESPONSE,    ///< an answer that could not be understood
    CallbackRejected = TSCB_ERR_CALLBACK_REJECTED,  ///< a received callback refused (source, credentials)
    CallbackInvalid = TSCB_ERR_CALLBACK_INVALID,    ///< a received callback that could not be read
    Panic = TSCB_ERR_PANIC,                         ///< a bug inside the library, caught
};

/// Defaults and limits, from the C header (not restated).
inline constexpr std::chrono::milliseconds DEFAULT_CONNECT_TIMEOUT{TSCB_DEFAULT_CONNECT_TIMEOUT_MS};
inline constexpr std::chrono::milliseconds DEFAULT_TIMEOUT{TSCB_DEFAULT_TIMEOUT_MS};
inline constexpr std::chrono::milliseconds DEFAULT_CALL_TIMEOUT{TSCB_DEFAULT_CALL_TIMEOUT_MS};
inline constexpr std::chrono::milliseconds MAX_TIMEOUT{TSCB_MAX_TIMEOUT_MS};
inline constexpr std::chrono::milliseconds DEFAULT_PREVIOUS_PASSWORD_WINDOW{TSCB_DEFAULT_PREVIOUS_PASSWORD_WINDOW_MS};
inline constexpr std::size_t MAX_CALLBACK_BYTES = TSCB_MAX_CALLBACK_BYTES;
inline constexpr std::size_t MAX_CREDENTIAL_CHARS = TSCB_MAX_CREDENTIAL_CHARS;
inline constexpr std::uint32_t DEFAULT_RETRY_MAX_RETRIES = TSCB_DEFAULT_RETRY_MAX_RETRIES;
inline constexpr std::chrono::milliseconds DEFAULT_RETRY_INITIAL_BACKOFF{TSCB_DEFAULT_RETRY_INITIAL_BACKOFF_MS};
inline constexpr std::chrono::milliseconds DEFAULT_RETRY_MAX_BACKOFF{TSCB_DEFAULT_RETRY_MAX_BACKOFF_MS};
inline constexpr std::chrono::milliseconds DEFAULT_RETRY_MAX_RETRY_AFTER{TSCB_DEFAULT_RETRY_MAX_RETRY_AFTER_MS};
inline constexpr std::chrono::milliseconds LOGIN_GUARD_BLOCK{TSCB_LOGIN_GUARD_BLOCK_MS};

/// The production base URL, which a new ClientBuilder uses until base_url().
inline std::string_view default_base_url() noexcept { return tscb_default_base_url(); }

/// Whether a failed request may have reached the service: what decides whether repeating it is
/// harmless, and whether a register may have taken effect.
enum class Sent : std::uint32_t {
    No = TSCB_SENT_NO,        ///< nothing reached it: bad input, no connection, TLS or the proxy refused
    Maybe = TSCB_SENT_MAYBE,  ///< it may have been acted on: the connection broke, or time ran out
    Yes = TSCB_SENT_YES,      ///< the service answered
};

/// A failure: the API's `errorCode` (code()) and `errorMessage` (message()), the HTTP status of
/// the answer when one came, and the kind. what() is "code: message". Copying never throws (the
/// data is shared), as an exception's copy must not.
class Error : public std::runtime_error {
public:
    /// The error's code, e.g. "UnifiedWebService.REQUEST_FAILED.AccountNotFound" or
    /// "Tscb.INPUT_INVALID.Password.TooLong": match on this, never on the message.
    const std::string &code() const noexcept { return data_->code; }
    const std::string &message() const noexcept { return data_->message; }
    /// The HTTP status of the answer; none when no answer came (or nothing was sent).
    std::optional<int> http_status() const noexcept { return data_->http_status; }
    ErrorKind kind() const noexcept { return static_cast<ErrorKind>(data_->result); }
    /// The C result the failed call returned (TSCB_ERR_*).
    tscb_result result() const noexcept { return data_->result; }
    /// What a callback listener answers for this error from CallbackVerifier::verify() or
    /// CallbackMessage::parse(): 403, 401, 413 or 400; 500 for any other error.
    int callback_answer_status() const noexcept { return data_->answer_status; }
    /// The error in the API's documented form, {"errorCode":"…","errorMessage":"…"}.
    const std::string &to_json() const noexcept { return data_->json; }
    /// Whether the request may have reached the service.
    Sent sent() const noexcept { return static_cast<Sent>(data_->sent); }
    /// For an invalid-input error, which input it is about ("AccountName", "CallbackUrl", …, as
    /// the code's second part names it): match on this rather than parse the code. None for any
    /// other error. A view into the error, valid as long as it (or a copy of it) lives.
    std::optional<std::string_view> field() const noexcept {
        if (!data_->field) return std::nullopt;
        return std::string_view(*data_->field);
    }

    /// Takes the data of a C error (which the caller still frees). `err` is NULL only when the C
    /// library could not make one (out of memory): the code is then empty and the message the
    /// result's description.
    static Error from_c(tscb_result result, const tscb_error *err) {
        Data d;
        d.result = result;
        if (err == nullptr) {
            d.message = tscb_result_str(result);
            return Error(std::move(d));
        }
        d.code = text(tscb_error_code(err));
        d.message = text(tscb_error_message(err));
        if (std::uint16_t s = tscb_error_http_status(err); s != 0) d.http_status = s;
        d.answer_status = tscb_callback_answer_status(err);
        std::unique_ptr<char, StringFree> json(tscb_error_to_json(err));
        d.json = text(json.get());
        d.sent = tscb_error_sent(err);
        if (const char *f = tscb_error_field(err)) d.field = std::string(f);
        return Error(std::move(d));
    }

private:
    struct StringFree {
        void operator()(char *s) const noexcept { tscb_string_free(s); }
    };
    struct Data {
        tscb_result result = TSCB_OK;
        std::string code, message, json;
        std::optional<int> http_status;
        int answer_status = 500;
        tscb_sent sent = TSCB_SENT_MAYBE;
        std::optional<std::string> field;
    };

    static std::string text(const char *s) { return s != nullptr ? std::string(s) : std::string(); }
    explicit Error(Data d)
        : std::runtime_error(d.code + ": " + d.message), data_(std::make_shared<const Data>(std::move(d))) {}

    std::shared_ptr<const Data> data_;
};

namespace detail {

template <typename T, void (*Free)(T *)>
struct Deleter {
    void operator()(T *p) const noexcept { Free(p); }
};
template <typename T, void (*Free)(T *)>
using Handle = std::unique_ptr<T, Deleter<T, Free>>;

using ErrorHandle = Handle<tscb_error, tscb_error_free>;
using AckHandle = Handle<tscb_callback_ack, tscb_callback_ack_free>;
using ListHandle = Handle<tscb_callback_list, tscb_callback_list_free>;
using StringHandle = Handle<char, tscb_string_free>;

/// Frees `err` whatever happens, and throws it when `result` is a failure.
inline void check(tscb_result result, tscb_error *err) {
    ErrorHandle owned(err);
    if (result != TSCB_OK) throw Error::from_c(result, owned.get());
}

/// For the setters, which return only a result: the object keeps the failure, and
/// `first_error` (tscb_client_builder_error or tscb_callback_verifier_error) hands it over. On a
/// NULL (moved-from) object that function gives the C library's error for the NULL itself.
template <typename T>
void check_setter(tscb_result result, tscb_result (*first_error)(const T *, tscb_error **), const T *object) {
    if (result == TSCB_OK) return;
    tscb_error *err = nullptr;
    const tscb_result kept = first_error(object, &err);
    check(kept != TSCB_OK ? kept : result, err);
}

/// `value` as a NUL-terminated string for C; `name` says which argument in the error.
inline std::string c_string(std::string_view value, const char *name) {
    if (value.find('\0') != std::string_view::npos) {
        tscb_error *err = nullptr;
        const tscb_result r = tscb_check_text(name, value.data(), value.size(), &err);
        check(r != TSCB_OK ? r : TSCB_ERR_INVALID_INPUT, err);
    }
    return std::string(value);
}

inline std::uint64_t c_millis(std::chrono::milliseconds ms, const char *name) {
    if (ms.count() < 0) {
        tscb_error *err = nullptr;
        const tscb_result r = tscb_check_millis(name, static_cast<std::int64_t>(ms.count()), &err);
        check(r != TSCB_OK ? r : TSCB_ERR_INVALID_INPUT, err);
    }
    return static_cast<std::uint64_t>(ms.count());
}

inline std::string owned_text(const char *s) { return s != nullptr ? std::string(s) : std::string(); }
inline std::optional<std::string> optional_text(const char *s) {
    if (s == nullptr || *s == '\0') return std::nullopt;
    return std::string(s);
}
inline std::optional<std::string_view> optional_view(const char *s) {
    if (s == nullptr) return std::nullopt;
    return std::string_view(s);
}
inline std::string_view view(const char *s) { return s != nullptr ? std::string_view(s) : std::string_view(); }

}  // namespace detail

/// The library's version, e.g. "0.1.0".
inline std::string_view version() noexcept { return tscb_version(); }

/// A listener to register: `CallbackRegistration("CarrierService", url).with_username("u")`.
class CallbackRegistration {
public:
    CallbackRegistration(std::string_view service_name, std::string_view url)
        : service_name_(service_name), url_(url) {}
    CallbackRegistration &with_username(std::string_view username) {
        username_ = std::string(username);
        return *this;
    }
    /// The callback password, echoed back to the listener in clear text in each message.
    CallbackRegistration &with_password(std::string_view password) {
        password_ = std::string(password);
        return *this;
    }
    const std::string &service_name() const noexcept { return service_name_; }
    const std::string &url() const noexcept { return url_; }
    const std::optional<std::string> &username() const noexcept { return username_; }
    const std::optional<std::string> &password() const noexcept { return password_; }

private:
    std::string service_name_, url_;
    std::optional<std::string> username_, password_;
};

/// ThingSpace's answer to a register or deregister: the account and service it acted on.
struct CallbackAck {
    std::string account_name;
    std::string service_name;
};

/// One registered listener, as Client::list_callbacks() returns it.
struct RegisteredCallback {
    std::string account_name;
    std::string service_name;
    std::string url;
    /// None when the service sent none or an empty one.
    std::optional<std::string> username;
    /// The callback password **in clear text**, as the service returns it: treat it as a secret
    /// (never log it). None when the service sent none or an empty one.
    std::optional<std::string> password;
};

class ClientBuilder;

/// A ThingSpace callback API client. Thread-safe: one client may be used from many threads at
/// once (its calls are const), and it reuses its connections. Move-only; made by
/// ClientBuilder::build().
class Client {
public:
    Client(Client &&) noexcept = default;
    Client &operator=(Client &&) noexcept = default;
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;

    /// Registers a listener: POST {base}/m2m/v1/callbacks/{account}. Every input is checked
    /// before anything is sent.
    CallbackAck register_callback(std::string_view account, const CallbackRegistration &registration) const {
        const std::string a = detail::c_string(account, "account");
        const std::string s = detail::c_string(registration.service_name(), "service_name");
        const std::string u = detail::c_string(registration.url(), "url");
        std::optional<std::string> user, pass;
        if (registration.username()) user = detail::c_string(*registration.username(), "username");
        if (registration.password()) pass = detail::c_string(*registration.password(), "password");
        tscb_callback_ack *raw = nullptr;
        tscb_error *err = nullptr;
        tscb_result r = tscb_register_callback(handle_.get(), a.c_str(), s.c_str(), u.c_str(),
                                               user ? user->c_str() : nullptr, pass ? pass->c_str() : nullptr,
                                               &raw, &err);
        return take_ack(r, raw, err);
    }

    /// The listeners registered for `account`: GET {base}/m2m/v1/callbacks/{account}.
    std::vector<RegisteredCallback> list_callbacks(std::string_view account) const {
        const std::string a = detail::c_string(account, "account");
        tscb_callback_list *raw = nullptr;
        tscb_error *err = nullptr;
        tscb_result r = tscb_list_callbacks(handle_.get(), a.c_str(), &raw, &err);
        detail::ListHandle list(raw);
        detail::check(r, err);
        std::vector<RegisteredCallback> out;
        const std::size_t n = tscb_callback_list_len(list.get());
        out.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            out.push_back(RegisteredCallback{
                detail::owned_text(tscb_callback_list_account_name(list.get(), i)),
                detail::owned_text(tscb_callback_list_service_name(list.get(), i)),
                detail::owned_text(tscb_callback_list_url(list.get(), i)),
                detail::optional_text(tscb_callback_list_username(list.get(), i)),
                detail::optional_text(tscb_callback_list_password(list.get(), i)),
            });
        }
        return out;
    }

    /// Removes the listener of one service:
    /// DELETE {base}/m2m/v1/callbacks/{account}/name/{service_name}.
    CallbackAck deregister_callback(std::string_view account, std::string_view service_name) const {
        const std::string a = detail::c_string(account, "account");
        const std::string s = detail::c_string(service_name, "service_name");
        tscb_callback_ack *raw = nullptr;
        tscb_error *err = nullptr;
        tscb_result r = tscb_deregister_callback(handle_.get(), a.c_str(), s.c_str(), &raw, &err);
        return take_ack(r, raw, err);
    }

    /// Signs in now if the client has credentials and no valid tokens yet (calls do this by
    /// themselves; this checks the credentials up front). With fixed tokens it sends nothing.
    void login() const {
        tscb_error *err = nullptr;
        tscb_result r = tscb_login(handle_.get(), &err);
        detail::check(r, err);
    }

    /// Ends the session; a client with credentials logs in again when it is next used.
    void logout() const {
        tscb_error *err = nullptr;
        tscb_result r = tscb_logout(handle_.get(), &err);
        detail::check(r, err);
    }

    /// A problem with the login guard file the client met, each one once; none when there is
    /// none. Such a problem never stops a login, and the library never prints: show it yourself.
    std::optional<std::string> login_guard_warning() const {
        detail::StringHandle s(tscb_client_login_guard_warning(handle_.get()));
        if (!s) return std::nullopt;
        return std::string(s.get());
    }

    /// The C handle, for calling the C API directly; owned by this object (do not free it).
    const tscb_client *c_handle() const noexcept { return handle_.get(); }

private:
    friend class ClientBuilder;
    explicit Client(tscb_client *raw) noexcept : handle_(raw) {}

    static CallbackAck take_ack(tscb_result r, tscb_callback_ack *raw, tscb_error *err) {
        detail::AckHandle ack(raw);
        detail::check(r, err);
        return CallbackAck{detail::owned_text(tscb_callback_ack_account_name(ack.get())),
                           detail::owned_text(tscb_callback_ack_service_name(ack.get()))};
    }

    detail::Handle<tscb_client, tscb_client_free> handle_;
};

/// Collects a client's settings; the setters have the Rust builder's names and defaults (see
/// tscb.h for each), and build() checks them all. Move-only. A setter throws tscb::Error only
/// for what C refuses at once (a string that is not UTF-8, or has a NUL byte). On a named
/// builder a setter returns it by reference; on a temporary, by value, so that
/// `auto b = tscb::ClientBuilder().base_url(url);` holds the builder rather than a dangling
/// reference.
class ClientBuilder {
public:
    /// The defaults: the production base URL and the DEFAULT_* timeouts.
    ClientBuilder() : handle_(tscb_client_builder_new()) {}
    ClientBuilder(ClientBuilder &&) noexcept = default;
    ClientBuilder &operator=(ClientBuilder &&) noexcept = default;
    ClientBuilder(const ClientBuilder &) = delete;
    ClientBuilder &operator=(const ClientBuilder &) = delete;

    /// From the THINGSPACE_* environment variables (credentials, THINGSPACE_BASE_URL,
    /// THINGSPACE_CA_FILE); the setters may change it afterwards.
    static ClientBuilder from_env() {
        tscb_client_builder *raw = nullptr;
        tscb_error *err = nullptr;
        tscb_result r = tscb_client_builder_from_env(&raw, &err);
        ClientBuilder b(raw);
        detail::check(r, err);
        return b;
    }

    /// The API's base URL, up to and including `/api`: https, or plain http to loopback.
    ClientBuilder &base_url(std::string_view url) & {
        set(tscb_client_builder_set_base_url(handle_.get(), detail::c_string(url, "base_url").c_str()));
        return *this;
    }
    ClientBuilder base_url(std::string_view url) && { return std::move(this->base_url(url)); }
    ClientBuilder &bearer_token(std::string_view token) & {
        set(tscb_client_builder_set_bearer_token(handle_.get(),
                                                           detail::c_string(token, "bearer_token").c_str()));
        return *this;
    }
    ClientBuilder bearer_token(std::string_view token) && { return std::move(this->bearer_token(token)); }
    ClientBuilder &session_token(std::string_view token) & {
        set(tscb_client_builder_set_session_token(handle_.get(),
                                                            detail::c_string(token, "session_token").c_str()));
        return *this;
    }
    ClientBuilder session_token(std::string_view token) && { return std::move(this->session_token(token)); }
    /// Lets the client sign in by itself: the OAuth client id and secret, and the session login
    /// (the login username and password, not the callback's username and password).
    ClientBuilder &credentials(std::string_view client_id, std::string_view client_secret,
                               std::string_view login_username, std::string_view login_password) & {
        set(tscb_client_builder_set_credentials(
            handle_.get(), detail::c_string(client_id, "client_id").c_str(),
            detail::c_string(client_secret, "client_secret").c_str(),
            detail::c_string(login_username, "login_username").c_str(),
            detail::c_string(login_password, "login_password").c_str()));
        return *this;
    }
    ClientBuilder credentials(std::string_view client_id, std::string_view client_secret,
                              std::string_view login_username, std::string_view login_password) && {
        return std::move(this->credentials(client_id, client_secret, login_username, login_password));
    }
    ClientBuilder &user_agent(std::string_view user_agent) & {
        set(tscb_client_builder_set_user_agent(handle_.get(),
                                                         detail::c_string(user_agent, "user_agent").c_str()));
        return *this;
    }
    ClientBuilder user_agent(std::string_view user_agent) && { return std::move(this->user_agent(user_agent)); }
    ClientBuilder &max_retries(std::uint32_t retries) & {
        set(tscb_client_builder_set_max_retries(handle_.get(), retries));
        return *this;
    }
    ClientBuilder max_retries(std::uint32_t retries) && { return std::move(this->max_retries(retries)); }
    ClientBuilder &retry_register_when_busy(bool retry) & {
        set(tscb_client_builder_set_retry_register_when_busy(handle_.get(), retry ? 1 : 0));
        return *this;
    }
    ClientBuilder retry_register_when_busy(bool retry) && { return std::move(this->retry_register_when_busy(retry)); }
    ClientBuilder &connect_timeout(std::chrono::milliseconds timeout) & {
        set(tscb_client_builder_set_connect_timeout_ms(handle_.get(),
                                                                 detail::c_millis(timeout, "connect_timeout")));
        return *this;
    }
    ClientBuilder connect_timeout(std::chrono::milliseconds timeout) && {
        return std::move(this->connect_timeout(timeout));
    }
    /// Each HTTP request's limit.
    ClientBuilder &timeout(std::chrono::milliseconds timeout) & {
        set(tscb_client_builder_set_timeout_ms(handle_.get(), detail::c_millis(timeout, "timeout")));
        return *this;
    }
    ClientBuilder timeout(std::chrono::milliseconds timeout) && { return std::move(this->timeout(timeout)); }
    /// One whole call's limit: sign-in, requests, retries and their waits.
    ClientBuilder &call_timeout(std::chrono::milliseconds timeout) & {
        set(tscb_client_builder_set_call_timeout_ms(handle_.get(),
                                                              detail::c_millis(timeout, "call_timeout")));
        return *this;
    }
    ClientBuilder call_timeout(std::chrono::milliseconds timeout) && { return std::move(this->call_timeout(timeout)); }
    ClientBuilder &login_guard_file(std::string_view path) & {
        set(tscb_client_builder_set_login_guard_file(handle_.get(),
                                                               detail::c_string(path, "login_guard_file").c_str()));
        return *this;
    }
    ClientBuilder login_guard_file(std::string_view path) && { return std::move(this->login_guard_file(path)); }
    ClientBuilder &ignore_login_guard(bool ignore) & {
        set(tscb_client_builder_set_ignore_login_guard(handle_.get(), ignore ? 1 : 0));
        return *this;
    }
    ClientBuilder ignore_login_guard(bool ignore) && { return std::move(this->ignore_login_guard(ignore)); }
    ClientBuilder &check_callback_port(bool check) & {
        set(tscb_client_builder_set_check_callback_port(handle_.get(), check ? 1 : 0));
        return *this;
    }
    ClientBuilder check_callback_port(bool check) && { return std::move(this->check_callback_port(check)); }
    ClientBuilder &allow_insecure_http(bool allow) & {
        set(tscb_client_builder_set_allow_insecure_http(handle_.get(), allow ? 1 : 0));
        return *this;
    }
    ClientBuilder allow_insecure_http(bool allow) && { return std::move(this->allow_insecure_http(allow)); }
    /// Trusts the CA certificates in the PEM file at `path` too (read by build()).
    ClientBuilder &add_ca_file(std::string_view path) & {
        set(tscb_client_builder_add_ca_file(handle_.get(), detail::c_string(path, "add_ca_file").c_str()));
        return *this;
    }
    ClientBuilder add_ca_file(std::string_view path) && { return std::move(this->add_ca_file(path)); }
    /// Goes through the proxy at `url`, whatever HTTPS_PROXY, ALL_PROXY and NO_PROXY say.
    ClientBuilder &proxy(std::string_view url) & {
        set(tscb_client_builder_set_proxy(handle_.get(), detail::c_string(url, "proxy").c_str()));
        return *this;
    }
    ClientBuilder proxy(std::string_view url) && { return std::move(this->proxy(url)); }
    /// No proxy at all, whatever the environment says.
    ClientBuilder &no_proxy() & {
        set(tscb_client_builder_set_proxy(handle_.get(), nullptr));
        return *this;
    }
    ClientBuilder no_proxy() && { return std::move(this->no_proxy()); }

    /// Checks the settings and builds the client. Consumes the builder's settings whatever the
    /// outcome: a setter or build() on it afterwards throws (kind NullParameter). A setter that
    /// threw makes it throw that error again (the C builder keeps it).
    Client build() {
        tscb_client *raw = nullptr;
        tscb_error *err = nullptr;
        tscb_result r = tscb_client_builder_build(handle_.release(), &raw, &err);
        Client client(raw);
        detail::check(r, err);
        return client;
    }

private:
    explicit ClientBuilder(tscb_client_builder *raw) noexcept : handle_(raw) {}
    void set(tscb_result result) const { detail::check_setter(result, tscb_client_builder_error, handle_.get()); }
    detail::Handle<tscb_client_builder, tscb_client_builder_free> handle_;
};

/// One entry of a message's `deviceIds`; views into the CallbackMessage.
struct DeviceId {
    std::string_view id;
    /// As sent ("Iccid", "IMEI", "imei", …; "" when none): compare it with kind_is().
    std::string_view kind;
    /// True when the kind is `other`, ignoring ASCII case.
    bool kind_is(std::string_view other) const noexcept {
        if (kind.size() != other.size()) return false;
        for (std::size_t i = 0; i < kind.size(); ++i) {
            auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
            if (lower(kind[i]) != lower(other[i])) return false;
        }
        return true;
    }
};

/// `faultResponse`: the failure ThingSpace reports for an asynchronous request.
struct CallbackFault {
    std::string_view code;     ///< `faultcode` ("" when absent): match on it
    std::string_view message;  ///< `faultstring` ("" when absent)
};

/// One received callback message. Move-only. Every string it hands out is a view into it, valid
/// until it is destroyed (a move keeps them valid); its password is wiped then.
class CallbackMessage {
public:
    CallbackMessage(CallbackMessage &&) noexcept = default;
    CallbackMessage &operator=(CallbackMessage &&) noexcept = default;
    CallbackMessage(const CallbackMessage &) = delete;
    CallbackMessage &operator=(const CallbackMessage &) = delete;

    /// Reads one callback body (bytes; need not be NUL-terminated) without checking where it
    /// came from: see CallbackVerifier::verify() for a listener.
    static CallbackMessage parse(std::string_view body) {
        tscb_callback_message *raw = nullptr;
        tscb_error *err = nullptr;
        tscb_result r = tscb_callback_message_parse(reinterpret_cast<const std::uint8_t *>(body.data()),
                                                    body.size(), &raw, &err);
        CallbackMessage m(raw);
        detail::check(r, err);
        return m;
    }

    std::optional<std::string_view> request_id() const {
        return detail::optional_view(tscb_callback_message_request_id(get()));
    }
    /// The registered username echoed back ("" when none was registered).
    std::optional<std::string_view> username() const {
        return detail::optional_view(tscb_callback_message_username(get()));
    }
    /// The registered password echoed back, **in clear text**: treat it as a secret.
    std::optional<std::string_view> password() const {
        return detail::optional_view(tscb_callback_message_password(get()));
    }
    std::optional<std::string_view> status() const {
        return detail::optional_view(tscb_callback_message_status(get()));
    }
    /// The service's object's name: "deviceResponse", "niddResponse", "faultResponse", …
    std::optional<std::string_view> payload_name() const {
        return detail::optional_view(tscb_callback_message_payload_name(get()));
    }
    /// The service's object as compact JSON.
    std::optional<std::string_view> payload_json() const {
        return detail::optional_view(tscb_callback_message_payload_json(get()));
    }
    std::optional<CallbackFault> fault() const {
        const char *code = tscb_callback_message_fault_code(get());
        if (code == nullptr) return std::nullopt;
        return CallbackFault{code, detail::view(tscb_callback_message_fault_message(get()))};
    }
    /// The fields that are neither the envelope nor the service's object, as a JSON object.
    std::string_view extra_json() const { return detail::view(tscb_callback_message_extra_json(get())); }
    /// The message's identity across ThingSpace's resends (64 hex digits).
    std::string_view dedup_key() const { return detail::view(tscb_callback_message_dedup_key(get())); }
    /// `callbackCount`: which attempt this is (1 for the first).
    std::optional<std::int64_t> callback_count() const { return count(tscb_callback_message_callback_count(get())); }
    /// `maxCallbackThreshold`: how many attempts ThingSpace makes.
    std::optional<std::int64_t> max_callback_threshold() const {
        return count(tscb_callback_message_max_callback_threshold(get()));
    }
    std::vector<DeviceId> device_ids() const {
        std::vector<DeviceId> out;
        const std::size_t n = tscb_callback_message_device_count(get());
        out.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            out.push_back(DeviceId{detail::view(tscb_callback_message_device_id(get(), i)),
                                   detail::view(tscb_callback_message_device_kind(get(), i))});
        }
        return out;
    }

    const tscb_callback_message *c_handle() const noexcept { return get(); }

private:
    friend class CallbackVerifier;
    explicit CallbackMessage(tscb_callback_message *raw) noexcept : handle_(raw) {}
    const tscb_callback_message *get() const noexcept { return handle_.get(); }
    static std::optional<std::int64_t> count(std::int64_t v) {
        if (v < 0) return std::nullopt;
        return v;
    }
    detail::Handle<tscb_callback_message, tscb_callback_message_free> handle_;
};

/// Checks where a callback came from and the username and password in it (constant time; only
/// digests of the passwords are kept). Once set up, verify() may run on many threads at once;
/// the setters must not run while another thread uses it. Move-only.
class CallbackVerifier {
public:
    /// Expects `username` and `password` in every message (none: that one is not checked), and
    /// allows the sources Verizon documents until allow_source() or allow_any_source().
    explicit CallbackVerifier(std::optional<std::string_view> username = std::nullopt,
                              std::optional<std::string_view> password = std::nullopt) {
        std::optional<std::string> u, p;
        if (username) u = detail::c_string(*username, "username");
        if (password) p = detail::c_string(*password, "password");
        tscb_callback_verifier *raw = nullptr;
        tscb_error *err = nullptr;
        tscb_result r = tscb_callback_verifier_new(u ? u->c_str() : nullptr, p ? p->c_str() : nullptr, &raw, &err);
        handle_.reset(raw);
        detail::check(r, err);
    }
    CallbackVerifier(CallbackVerifier &&) noexcept = default;
    CallbackVerifier &operator=(CallbackVerifier &&) noexcept = default;
    CallbackVerifier(const CallbackVerifier &) = delete;
    CallbackVerifier &operator=(const CallbackVerifier &) = delete;

    /// After re-registering with a new password, also accepts the previous one for `valid_for`.
    CallbackVerifier &set_previous_password(std::string_view password,
                                            std::chrono::milliseconds valid_for = DEFAULT_PREVIOUS_PASSWORD_WINDOW) & {
        set(tscb_callback_verifier_set_previous_password(
            handle_.get(), detail::c_string(password, "password").c_str(), detail::c_millis(valid_for, "valid_for")));
        return *this;
    }
    CallbackVerifier set_previous_password(std::string_view password,
                                           std::chrono::milliseconds valid_for = DEFAULT_PREVIOUS_PASSWORD_WINDOW) && {
        return std::move(this->set_previous_password(password, valid_for));
    }
    /// Allows an IPv4/IPv6 address or CIDR block. The first call replaces the default list.
    CallbackVerifier &allow_source(std::string_view source) & {
        set(tscb_callback_verifier_allow_source(handle_.get(), detail::c_string(source, "source").c_str()));
        return *this;
    }
    CallbackVerifier allow_source(std::string_view source) && { return std::move(this->allow_source(source)); }
    /// Allows every source (behind a proxy that checks sources itself, or for tests).
    CallbackVerifier &allow_any_source() & {
        set(tscb_callback_verifier_allow_any_source(handle_.get()));
        return *this;
    }
    CallbackVerifier allow_any_source() && { return std::move(this->allow_any_source()); }

    /// Checks `source_ip` (as the socket reported it), reads `body`, compares the credentials.
    /// A refusal is a tscb::Error whose callback_answer_status() is what to answer.
    CallbackMessage verify(std::string_view source_ip, std::string_view body) const {
        const std::string ip = detail::c_string(source_ip, "source_ip");
        tscb_callback_message *raw = nullptr;
        tscb_error *err = nullptr;
        tscb_result r = tscb_callback_verifier_verify(handle_.get(), ip.c_str(),
                                                      reinterpret_cast<const std::uint8_t *>(body.data()),
                                                      body.size(), &raw, &err);
        CallbackMessage m(raw);
        detail::check(r, err);
        return m;
    }
    /// Checks only the source, so that a listener can refuse it before reading the body.
    void check_source(std::string_view source_ip) const {
        tscb_error *err = nullptr;
        tscb_result r = tscb_callback_verifier_check_source(
            handle_.get(), detail::c_string(source_ip, "source_ip").c_str(), &err);
        detail::check(r, err);
    }

private:
    void set(tscb_result result) const { detail::check_setter(result, tscb_callback_verifier_error, handle_.get()); }
    detail::Handle<tscb_callback_verifier, tscb_callback_verifier_free> handle_;
};

/// The ranges of callback ports ThingSpace documents (first and last, both included).
inline std::vector<std::pair<std::uint16_t, std::uint16_t>> callback_port_ranges() {
    std::vector<std::pair<std::uint16_t, std::uint16_t>> out;
    for (std::size_t i = 0, n = tscb_callback_port_range_count(); i < n; ++i) {
        std::uint16_t first = 0, last = 0;
        if (tscb_callback_port_range(i, &first, &last) != 0) out.emplace_back(first, last);
    }
    return out;
}

/// The addresses Verizon documents as the sources of callbacks (static strings).
inline std::vector<std::string_view> verizon_callback_sources() {
    std::vector<std::string_view> out;
    for (std::size_t i = 0, n = tscb_verizon_callback_source_count(); i < n; ++i) {
        if (const char *s = tscb_verizon_callback_source(i)) out.emplace_back(s);
    }
    return out;
}

}  // namespace tscb

#endif  // TSCB_HPP
