#!/usr/bin/env python3
"""Every repository path docs/architecture.md names exists in the tree (issue 32: a map that matches).

A path is a token that starts with one of the tree's top folders (host/, sdk/, plugins/, tests/,
python/, configs/, scripts/, bench/, cmake/, docs/, examples/), in backticks or plain text, and is
not the tail of a longer path (lib/cmake/priorlab/ names the installed tree, not cmake/). Trailing
punctuation is not part of it. A token with *, <...> or {a,b} is a pattern: * stands for any
characters within one folder name, <...> for one folder or file name part, {a,b} for either; at
least one file or folder must match it. A token ending in / must name a folder. The targets of
Markdown links and images, ](architecture/layers.png), must exist relative to the document.
First the checker is run on a made-up tree and markdown in a temporary folder, so that it can fail.

Usage: docs_paths_test.py SOURCE_DIR [MARKDOWN ...]   (default: docs/architecture.md)
"""
import os
import re
import sys
import tempfile

TOP = ("host", "sdk", "plugins", "tests", "python", "configs", "scripts", "bench", "cmake", "docs", "examples")
START = re.compile(r"(?<![\w./<>*{}-])(?:%s)/" % "|".join(TOP))
PLAIN = re.compile(r"[\w.\-/*]")
TRAILING = ".,;:!?)]'\"`"
LINK = re.compile(r"\]\(([^)\s#]+)")
SKIPPED_DIRS = {".git", "__pycache__"}


def paths_in(text):
    """(line, token) for every path token of markdown `text`, in order."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for m in START.finditer(line):
            i, depth = m.start(), ""
            while i < len(line):
                c = line[i]
                if depth:  # inside <...> or {...}: anything up to the closing bracket
                    if c == depth:
                        depth = ""
                elif c in "<{":
                    depth = ">" if c == "<" else "}"
                elif not PLAIN.match(c):
                    break
                i += 1
            token = line[m.start():i].rstrip(TRAILING)
            found.append((number, token))
    return found


def pattern_regex(token):
    """The regular expression of a path pattern (relative, '/'-separated; no trailing '/')."""
    out, i = [], 0
    while i < len(token):
        c = token[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "<":
            j = token.index(">", i)
            out.append("[^/]+")
            i = j
        elif c == "{":
            j = token.index("}", i)
            out.append("(?:" + "|".join(re.escape(a) for a in token[i + 1:j].split(",")) + ")")
            i = j
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def tree(root):
    """Every file and folder under root, relative, '/'-separated, as (path, is_folder)."""
    entries = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not (folder == root and d.startswith("build"))]
        rel = os.path.relpath(folder, root).replace(os.sep, "/")
        prefix = "" if rel == "." else rel + "/"
        entries += [(prefix + d, True) for d in dirs] + [(prefix + f, False) for f in files]
    return entries


def missing_paths(root, markdown):
    """('file:line: ...' for every path or link of `markdown` (a file) that names nothing, in line
    order; how many paths and links were checked)."""
    with open(markdown, encoding="utf-8") as f:
        text = f.read()
    tokens = paths_in(text)
    entries = None
    problems, links = [], 0
    for number, line in enumerate(text.splitlines(), 1):
        for target in LINK.findall(line):
            if "://" in target or target.startswith("mailto:"):
                continue
            links += 1
            if not os.path.exists(os.path.join(os.path.dirname(markdown), target)):
                problems.append((number, f"{markdown}:{number}: link `{target}` does not exist beside the document"))
    for number, token in tokens:
        folder = token.endswith("/")
        path = token.rstrip("/")
        if any(c in path for c in "*<{"):
            if entries is None:
                entries = tree(root)
            regex = pattern_regex(path)
            ok = any(regex.match(p) and (is_dir or not folder) for p, is_dir in entries)
            what = "matches nothing in the tree"
        else:
            full = os.path.join(root, path)
            ok = os.path.isdir(full) if folder else os.path.exists(full)
            what = "is not a folder of the tree" if folder and os.path.exists(full) else "does not exist in the tree"
        if not ok:
            problems.append((number, f"{markdown}:{number}: `{token}` {what}"))
    return [text for _, text in sorted(problems, key=lambda p: p[0])], len(tokens) + links


def self_check():
    """On a made-up tree: the missing file, the unmatched pattern and the broken link are reported,
    and nothing else (not the existing files, patterns and folders, nor the installed tree's paths)."""
    with tempfile.TemporaryDirectory() as root:
        for f in ["host/engine/trainer.cpp", "host/run/run.cpp", "plugins/prior/vhp/vhp.cpp"]:
            os.makedirs(os.path.join(root, os.path.dirname(f)), exist_ok=True)
            open(os.path.join(root, f), "w").close()
        md = os.path.join(root, "made_up.md")
        with open(md, "w", encoding="utf-8") as f:
            f.write("The loop is in `host/engine/trainer.cpp`, and the step in host/engine/step.cpp.\n"
                    "Rooms: host/<room>/ (host/{engine,run}/*.cpp); plugins in `plugins/<kind>/<name>/`,\n"
                    "not plugins/<kind>/<name>/README.md; installed: lib/cmake/priorlab/ and build/host/x.\n"
                    "![a picture](host/run/run.cpp) and [a link](pictures/gone.png),\n"
                    "[a site](https://example.org/x).\n")
        got, count = missing_paths(root, md)
        want = [f"{md}:1: `host/engine/step.cpp` does not exist in the tree",
                f"{md}:3: `plugins/<kind>/<name>/README.md` matches nothing in the tree",
                f"{md}:4: link `pictures/gone.png` does not exist beside the document"]
        assert count == 9, count  # 7 paths (lib/cmake/priorlab/ and build/host/x are not) and 2 links
        assert got == want, got


def main():
    self_check()
    root = sys.argv[1]
    docs = sys.argv[2:] or [os.path.join(root, "docs", "architecture.md")]
    problems, total = [], 0
    for md in docs:
        found, count = missing_paths(root, md)
        problems += found
        total += count
    if problems:
        print("paths that name nothing in the tree:\n  " + "\n  ".join(problems))
        return 1
    print(f"docs_paths_test: all {total} paths and link targets in {', '.join(docs)} exist")
    return 0


if __name__ == "__main__":
    sys.exit(main())
