"""Writes every ```c block of the README and the guides to OUT_DIR as a C program: a block with
its own main() as it is, a fragment inside a function whose parameters are the variables the
fragments use, called by a main() that gives them what a program around the fragment would: the
simulator's address and tokens from THINGSPACE_BASE_URL, THINGSPACE_BEARER_TOKEN and
THINGSPACE_SESSION_TOKEN, and a callback message as ThingSpace sends it from one of Verizon's
addresses. tests/c/run.sh compiles them all against the installed header and library and runs
each against a simulator; a fragment that takes its error branch writes to stderr, which fails.

usage: doc_blocks.py REPO OUT_DIR [BASE_URL]   (BASE_URL replaces the simulator's usual address)
"""

import re
import sys
from pathlib import Path

PAGES = ["README.md", "docs/c.md", "docs/receiving-callbacks.md"]
# The names the fragments take for granted, as a program around them would have them.
PARAMETERS = [
    ("const char *", "base_url"),
    ("const char *", "bearer"),
    ("const char *", "session"),
    ("const char *", "listener_password"),
    ("const char *", "old_password"),
    ("const char *", "peer_ip"),
    ("const uint8_t *", "body"),
    ("size_t ", "body_len"),
]
PRELUDE = "#include <stdint.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <tscb.h>\n\n"
# The listener's side of the fragments: the password the verifier expects, the one it replaced,
# and a message that carries the first (as the simulator's deliveries and ThingSpace do).
MAIN = r"""
int main(void) {
    static const char body[] =
        "{\"username\":\"fleet-7\",\"password\":\"listener-pw\",\"requestId\":\"r-1\","
        "\"deviceIds\":[{\"id\":\"353238060000001\",\"kind\":\"IMEI\"}],\"status\":\"Success\","
        "\"deviceResponse\":{},\"callbackCount\":1,\"maxCallbackThreshold\":4}";
    doc_fragment(getenv("THINGSPACE_BASE_URL"), getenv("THINGSPACE_BEARER_TOKEN"),
                 getenv("THINGSPACE_SESSION_TOKEN"), "listener-pw", "old-listener-pw",
                 tscb_verizon_callback_source(0), (const uint8_t *)body, strlen(body));
    return 0;
}
"""


def main() -> None:
    repo, out = Path(sys.argv[1]), Path(sys.argv[2])
    base_url = sys.argv[3] if len(sys.argv) > 3 else None
    out.mkdir(parents=True, exist_ok=True)
    for page in PAGES:
        text = (repo / page).read_text()
        for n, block in enumerate(re.findall(r"^```c\n(.*?)^```", text, flags=re.S | re.M)):
            if base_url:
                block = block.replace("http://127.0.0.1:9000/api", base_url)
            name = re.sub(r"[^A-Za-z0-9]+", "_", page.removesuffix(".md")) + f"_{n + 1}"
            if re.search(r"\bint main\(", block):
                source = f"/* {page}, block {n + 1} */\n" + block
            else:
                params = ", ".join(f"{t}{v}" for t, v in PARAMETERS)
                unused = " ".join(f"(void){v};" for _, v in PARAMETERS)
                source = (
                    f"/* {page}, block {n + 1}: a fragment */\n{PRELUDE}"
                    f"void doc_fragment({params});\nvoid doc_fragment({params}) {{\n{unused}\n{block}}}\n\n"
                    f"{MAIN}"
                )
            (out / f"{name}.c").write_text(source)
            print(name)


if __name__ == "__main__":
    main()
