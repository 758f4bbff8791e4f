#!/usr/bin/env bash
# The CPU-side parts of scripts/gpu-check.sh, without the network:
#   (a) `unpack` turns .deb files into a root tree, with dpkg -x and with the ar + tar fallback
#       (the same tree both ways), and says what to do when there are none;
#   (b) `run --device cpu --quick --skip-tests` against this build tree writes a results JSON with
#       the main job and the step timings.
# Arguments: <build dir> <source dir>.
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
script=$src/scripts/gpu-check.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset OUT GPU_CHECK_NO_DPKG  # logs and results of this test stay in its own folder
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# --------------------------------------------------------------------- (a) unpack without network
make_deb() {  # make_deb NAME FILE CONTENT: a .deb holding one file, into $work/debs
  local name=$1 file=$2 content=$3 pkg=$work/pkg-$1
  mkdir -p "$pkg/DEBIAN" "$pkg/$(dirname "$file")"
  printf '%s\n' "$content" >"$pkg/$file"
  printf 'Package: %s\nVersion: 1.0\nArchitecture: amd64\nMaintainer: test <t@example.org>\nDescription: gpu-check test\n' \
    "$name" >"$pkg/DEBIAN/control"
  mkdir -p "$work/debs"
  if command -v dpkg-deb >/dev/null; then
    dpkg-deb --root-owner-group --build "$pkg" "$work/debs/${name}_1.0_amd64.deb" >/dev/null
  else  # the .deb format by hand: an ar archive of debian-binary, control.tar.gz, data.tar.gz
    local t=$work/ar-$name; mkdir -p "$t"
    echo 2.0 >"$t/debian-binary"
    tar -czf "$t/control.tar.gz" -C "$pkg/DEBIAN" ./control
    tar -czf "$t/data.tar.gz" -C "$pkg" --exclude=./DEBIAN .
    (cd "$t" && ar rc "$work/debs/${name}_1.0_amd64.deb" debian-binary control.tar.gz data.tar.gz)
  fi
}
make_deb fake-dev usr/include/fake/a.h '#define FAKE_A 1'
make_deb libfake1 usr/lib/x86_64-linux-gnu/libfake.so.1 'not really a library'

tree_of() { (cd "$1" && find . \( -type f -o -type l \) -printf '%p %s\n' | sort); }
check_root() {  # check_root GPU_CHECK_DIR LABEL
  local r=$1/root
  for f in usr/include/fake/a.h usr/lib/x86_64-linux-gnu/libfake.so.1; do
    [[ -f $r/$f ]] || fail "$2: $r/$f missing; the root holds: $(cd "$r" 2>/dev/null && find . | tr '\n' ' ')"
  done
  grep -q FAKE_A "$r/usr/include/fake/a.h" 2>/dev/null || fail "$2: a.h has the wrong content: $(cat "$r/usr/include/fake/a.h" 2>&1)"
}
for mode in dpkg ar; do
  gc=$work/gc-$mode
  mkdir -p "$gc"; cp -r "$work/debs" "$gc/debs"
  if [[ $mode == ar ]]; then export GPU_CHECK_NO_DPKG=1; fi
  if ! out=$(GPU_CHECK_DIR=$gc bash "$script" unpack 2>&1); then fail "unpack ($mode) failed: $out"; fi
  unset GPU_CHECK_NO_DPKG
  if [[ $mode == ar && $out != *"ar + tar"* ]]; then fail "unpack with GPU_CHECK_NO_DPKG=1 did not use ar + tar: $out"; fi
  check_root "$gc" "unpack ($mode)"
done
if [[ $(tree_of "$work/gc-dpkg/root") != "$(tree_of "$work/gc-ar/root")" ]]; then
  fail "dpkg -x and ar + tar give different trees:
$(diff <(tree_of "$work/gc-dpkg/root") <(tree_of "$work/gc-ar/root"))"
fi
# No .debs: a clear message, non-zero exit.
mkdir -p "$work/gc-empty/debs"
if out=$(GPU_CHECK_DIR=$work/gc-empty bash "$script" unpack 2>&1); then fail "unpack with no .debs succeeded: $out"
elif [[ $out != *"run scripts/gpu-check.sh fetch on a Debian machine first"* ]]; then fail "unpack with no .debs said: $out"; fi
echo "gpu_check_test: (a) unpack: $failures failure(s)"

# ------------------------------------------------------------- (b) run on the CPU, quick, no tests
gc=$work/gc-run
start=$SECONDS
if ! GPU_CHECK_DIR=$gc bash "$script" run --build-dir "$build" --device cpu --quick --skip-tests \
      --out "$work/r.json" >"$work/run.log" 2>&1; then
  fail "gpu-check.sh run exited non-zero:"; tail -n 30 "$work/run.log" >&2
fi
echo "gpu_check_test: (b) run took $((SECONDS - start)) s"
if ! python3 - "$work/r.json" <<'EOF'
import json, math, sys
bad = []
try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    print(f"FAIL: results JSON unreadable: {e}", file=sys.stderr); sys.exit(1)
for k in ["date", "host", "device", "gpu", "torch_version", "tests", "main_job", "steps"]:
    if k not in r: bad.append(f"key {k!r} missing; keys: {sorted(r)}")
if r.get("device") != "cpu": bad.append(f"device is {r.get('device')!r}, expected 'cpu'")
if r.get("tests") is not None: bad.append(f"tests should be null with --skip-tests, found {r.get('tests')!r}")
m = r.get("main_job") or {}
for k in ["exit_code", "seconds", "mae_rad", "iterations"]:
    if k not in m: bad.append(f"main_job.{k} missing; main_job: {m}")
if m.get("exit_code") != 0: bad.append(f"main_job.exit_code is {m.get('exit_code')!r}, expected 0")
mae = m.get("mae_rad")
if not isinstance(mae, (int, float)) or not math.isfinite(mae): bad.append(f"main_job.mae_rad is {mae!r}, expected a finite number")
if m.get("iterations") != 300: bad.append(f"main_job.iterations is {m.get('iterations')!r}, expected 300 (--quick)")
steps = r.get("steps") or []
for model in ["pendulum_vhp_mlp4x256", "mnist_gated_conv_vhp_rewo"]:
    found = [s for s in steps if s.get("model") == model and s.get("device") == "cpu"]
    if not found: bad.append(f"no step timing for {model} on cpu; steps: {steps}")
    for s in found:
        ms = s.get("ms_per_step")
        if not isinstance(ms, (int, float)) or not ms > 0 or not s.get("steps_timed", 0) > 0:
            bad.append(f"{model} on cpu: ms_per_step {ms!r}, steps_timed {s.get('steps_timed')!r}; expected > 0")
for b in bad: print("FAIL: " + b, file=sys.stderr)
if not bad:
    print("gpu_check_test: results " + json.dumps({"mae_rad": mae, "steps": [(s["model"], s["ms_per_step"]) for s in steps]}))
sys.exit(1 if bad else 0)
EOF
then
  failures=$((failures + 1))
  echo "--- gpu-check.sh run output:" >&2; tail -n 20 "$work/run.log" >&2
  for f in "$gc"/logs/*.log; do [[ -f $f ]] || continue; echo "--- $f (tail):" >&2; tail -n 5 "$f" >&2; done
fi

if ((failures)); then echo "gpu_check_test: $failures failure(s)" >&2; exit 1; fi
echo "gpu_check_test: ok"
