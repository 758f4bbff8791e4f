#!/usr/bin/env python3
"""No include in host/ reaches up a layer (issue 32: the host as rooms a newcomer can find).

host/LAYERS lists the host's rooms bottom to top, one folder of host/ each (host/CMakeLists.txt
reads the same file, adds the rooms in its order and refuses a link to a room above). Here:
- every .cpp and .hpp under host/ lies in a room's folder;
- a quoted include that names a room ("engine/trainer.hpp") names the file's own room or one
  below it, and a file that exists;
- a quoted include of a host header without its room ("trainer.hpp", found beside the including
  file) is refused as well: it would hide the layer it reaches.
Other quoted includes (the SDK's "priorlab/...", the generated "proto/...") are below every room.
First the checker is run on a made-up tree in a temporary folder, so that it can fail.

Usage: layer_test.py HOST_DIR
"""
import os
import re
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def read_layers(host):
    """The rooms of HOST/LAYERS, bottom first (blank lines and # comments skipped)."""
    with open(os.path.join(host, "LAYERS"), encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip() and not line.lstrip().startswith("#")]


def check_file(host, path, layers):
    """Messages for one source file: its room, then each quoted include."""
    rel = os.path.relpath(path, host)
    room = rel.split(os.sep)[0] if os.sep in rel else None
    if room not in layers:
        return [f"{path}:1: in no room of {host}/LAYERS ({', '.join(layers)})"]
    level, found = layers.index(room), []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            header = m.group(1)
            target = header.split("/")[0] if "/" in header else None
            where = f'{path}:{number}: #include "{header}"'
            if target in layers:
                if layers.index(target) > level:
                    found.append(f"{where} reaches up: {room} (layer {level + 1}) includes {target} "
                                 f"(layer {layers.index(target) + 1})")
                elif not os.path.isfile(os.path.join(host, header)):
                    found.append(f"{where} names no file of {host}/{target}")
            elif os.path.isfile(os.path.join(os.path.dirname(path), header)):
                found.append(f'{where} names a host header without its room: write "{room}/{header}"')
    return found


def violations(host):
    """Every message for the tree under `host`, in file order."""
    layers = read_layers(host)
    found = []
    for folder, dirs, files in os.walk(host):
        dirs.sort()
        for name in sorted(files):
            if name.endswith((".cpp", ".hpp")):
                found += check_file(host, os.path.join(folder, name), layers)
    return found


def self_check():
    """A made-up tree with one of each mistake, and one of each include that is allowed."""
    tree = {
        "LAYERS": "# bottom to top\nlow\n\nhigh\n",
        "low/a.hpp": '#pragma once\n#include "priorlab/error.hpp"\n#include "high/b.hpp"\n',
        "low/a.cpp": '#include "low/a.hpp"\n#include "low/gone.hpp"\n',
        "high/b.hpp": '#pragma once\n#include "low/a.hpp"\n',
        "high/b.cpp": '#include "high/b.hpp"\n// #include "b.hpp" in a comment\n#include "b.hpp"\n',
        "stray.cpp": "int main() { return 0; }\n",
    }
    with tempfile.TemporaryDirectory() as host:
        for rel, text in tree.items():
            os.makedirs(os.path.dirname(os.path.join(host, rel)), exist_ok=True)
            with open(os.path.join(host, rel), "w", encoding="utf-8") as f:
                f.write(text)
        got = sorted(m.replace(host, "{host}") for m in violations(host))
    expected = sorted([
        '{host}/high/b.cpp:3: #include "b.hpp" names a host header without its room: write "high/b.hpp"',
        '{host}/low/a.cpp:2: #include "low/gone.hpp" names no file of {host}/low',
        '{host}/low/a.hpp:3: #include "high/b.hpp" reaches up: low (layer 1) includes high (layer 2)',
        "{host}/stray.cpp:1: in no room of {host}/LAYERS (low, high)",
    ])
    assert got == expected, "the checker missed or invented a mistake:\n  " + "\n  ".join(got)


def main():
    self_check()
    host = sys.argv[1].rstrip("/")
    found = violations(host)
    if found:
        print(f"includes that break the layers of {host}/LAYERS:\n  " + "\n  ".join(found))
        return 1
    print(f"layer_test: no include in {host} reaches up a layer ({' < '.join(read_layers(host))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
