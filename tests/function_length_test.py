#!/usr/bin/env python3
"""No function in host/ is longer than 100 lines (issue 32: functions a reader can hold).

A function is counted from the line of its opening brace's statement (its signature's first
line) to its closing brace; lambdas and local classes count with the function that holds them.
The scan strips comments and string and character literals, then follows the braces: a brace
whose statement names a namespace, class, struct, union or enum, or is extern "C", opens a
scope that is walked into; any other brace after a ')' (optionally followed by const, override,
noexcept, an initialiser list, ...) opens a function body. First the scanner is checked on a
made-up file, so that it can fail.

Usage: function_length_test.py HOST_DIR [LIMIT]
"""
import os
import re
import sys

SCOPE = re.compile(r'(^|\s)(namespace|class|struct|union|enum)(\s|$)|extern\s*"C"')


def strip(text):
    """Comments and literals replaced by spaces (newlines kept, so line numbers hold)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c, nxt = text[i], text[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c == "/" and nxt == "*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "R" and nxt == '"':
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(" " * (j + 1 - i))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(text):
    """(first line, last line, signature) of every function body in C++ source `text`."""
    code = strip(text)
    # Preprocessor lines (with their continuations) are not statements.
    code = re.sub(r"(?m)^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", lambda m: re.sub(r"[^\n]", " ", m.group(0)), code)
    found, stack = [], []  # "scope" | "block" | ("function", first line, signature)
    statement_start, line = 0, 1
    for i, c in enumerate(code):
        if c == "\n":
            line += 1
            continue
        if c not in ";{}":
            continue
        if c == "{":
            head = code[statement_start:i]
            if any(isinstance(s, tuple) for s in stack):
                stack.append("block")  # a block, lambda or local class inside a function
            elif ")" in head and not SCOPE.search(head.split("(")[0]):
                body = head.lstrip()
                first = line - body.count("\n")
                stack.append(("function", first, " ".join(body.split())[:100]))
            else:
                stack.append("scope")  # namespace, class, enum, extern "C", an initialiser
        elif c == "}" and stack:
            top = stack.pop()
            if isinstance(top, tuple):
                found.append((top[1], line, top[2]))
        statement_start = i + 1
    return found


def self_check():
    long_body = "\n".join(f"  x += {k};" for k in range(105))
    sample = (
        "namespace a {\nnamespace {\n// a comment with { and }\n"
        "struct S {\n  int f() const {\n    return 1;\n  }\n};\n"
        f"int big(int x) {{\n  const char* s = \"{{\";\n{long_body}\n  return x;\n}}\n"
        "int small() {\n  auto l = [] { return 2; };\n  return l();\n}\n"
        "}  // namespace\n}  // namespace a\n")
    got = {sig.split("(")[0].split()[-1]: last - first + 1 for first, last, sig in functions(sample)}
    assert got == {"f": 3, "big": 109, "small": 4}, got


def main():
    self_check()
    root, limit = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100
    over, longest = [], []
    for folder, _, files in os.walk(root):
        for name in sorted(files):
            if not name.endswith((".cpp", ".hpp")):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as f:
                for first, last, sig in functions(f.read()):
                    n = last - first + 1
                    longest.append((n, path, first, sig))
                    if n > limit:
                        over.append(f"{path}:{first}: {n} lines: {sig}")
    longest.sort(reverse=True)
    print("longest functions:")
    for n, path, first, sig in longest[:5]:
        print(f"  {n:4d}  {path}:{first}  {sig[:70]}")
    if over:
        print(f"functions over {limit} lines:\n  " + "\n  ".join(over))
        return 1
    print(f"function_length_test: no function in {root} is over {limit} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
