// Register a ThingSpace callback listener from C++ (tscb.hpp), then list the account's listeners.
// Settings come from the THINGSPACE_* variables. Exit status: 0 registered, 1 failed, 2 usage.
#include <tscb.hpp>

#include <iostream>

int main(int argc, char **argv) {
    if (argc != 4) {
        std::cerr << "usage: " << argv[0] << " ACCOUNT SERVICE URL\n";
        return 2;
    }
    try {
        // THINGSPACE_BASE_URL (unset: production) and the credentials, from the environment.
        const tscb::Client client = tscb::ClientBuilder::from_env().build();
        tscb::CallbackAck ack = client.register_callback(argv[1], tscb::CallbackRegistration(argv[2], argv[3]));
        std::cout << "registered " << ack.service_name << " for account " << ack.account_name << "\n";
        for (const tscb::RegisteredCallback &cb : client.list_callbacks(argv[1])) {
            std::cout << cb.service_name << " -> " << cb.url << "\n";
        }
    } catch (const tscb::Error &e) {
        std::cerr << e.code() << ": " << e.message();
        if (e.http_status()) std::cerr << " (HTTP status " << *e.http_status() << ")";
        std::cerr << "\n";
        return 1;
    }
}
