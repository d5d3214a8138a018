"""Writes a C file that defines every function include/tscb.h declares, each with an empty body.

`make check-abi` compiles it with debug info into a stand-in libtscb.so for libabigail: the real
library's debug info is Rust's and describes the private Rust types behind every opaque handle
(2.7 MB of XML that changes with any internal edit), while the ABI C users link against is what
tscb.h says. The header test (ffi/tests/header.rs) keeps tscb.h equal to what ffi/ exports.

    python3 release/abi-probe.py include/tscb.h > probe.c
"""

import re
import sys


def main() -> None:
    header = open(sys.argv[1], encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", "", header, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"^\s*#.*$", "", text, flags=re.M)
    # C++ only, inside #ifdef __cplusplus: its braces would hide every declaration.
    text = re.sub(r"extern \"C\" \{", "", text)
    body = ["#include <string.h>", '#include "tscb.h"']
    count = 0
    # Top-level statements: declarations end with ';' outside braces.
    depth, start = 0, 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == ";" and depth == 0:
            stmt = " ".join(text[start:i].split())
            start = i + 1
            m = re.fullmatch(r"(?!typedef\b)(.+?)\b(tscb_\w+)\((.*)\)", stmt)
            if not m:
                continue
            ret, name, params = m.group(1).strip(), m.group(2), m.group(3)
            if ret == "void":
                body.append(f"{ret} {name}({params}) {{}}")
            else:
                body.append(f"{ret} {name}({params}) {{ {ret} r; memset(&r, 0, sizeof r); return r; }}")
            count += 1
    if count == 0:
        sys.exit(f"no functions found in {sys.argv[1]}")
    print("\n".join(body))


if __name__ == "__main__":
    main()
