#!/usr/bin/env bash
# A prepared check for a machine with an NVIDIA GPU and a pip `torch` but no Debian development
# packages and no network: build priorlab against that torch, run the test suite, the main job and
# step timings on CUDA, and write one JSON file with the results.
#
#   1. On a Debian 12 machine with apt:  scripts/gpu-check.sh fetch
#      (downloads the header/library .debs the build needs besides LibTorch into .gpu-check/debs/)
#   2. Copy the tree, .gpu-check/debs/ included, to the GPU machine, then there:
#      scripts/gpu-check.sh all          (= build, then run on cuda)
#
# Run `scripts/gpu-check.sh -h` for the subcommands and options.
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."
src=$PWD
abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$caller/$1" ;; esac; }  # relative to the caller

usage() {
  cat <<'EOF'
usage: scripts/gpu-check.sh COMMAND [options]

commands:
  fetch     (Debian 12, with apt) download the .debs the build needs besides LibTorch
            (nlohmann/json, fmt, Boost headers + Boost.Filesystem, CLI11, GoogleTest/GoogleMock,
            and the runtime libraries they directly depend on) into .gpu-check/debs/
  unpack    unpack every .gpu-check/debs/*.deb into .gpu-check/root/ (dpkg -x, else ar + tar)
  build     unpack, then configure and build priorlab (Release, tests on, OpenCV and matio off)
  run       with a build: GPU facts, the test suite, the main job and step timings -> one JSON file
  all       build, then run

build options:
  --torch-prefix DIR   CMake prefix of LibTorch (default: python3 -c 'import torch;
                       print(torch.utils.cmake_prefix_path)'; `/usr` for Debian's libtorch-dev)
  --build-dir DIR      build tree (default: build-gpu)
  --dry-run            print the CMake commands instead of running them
run options:
  --build-dir DIR      build tree to use (default: build-gpu)
  --device cuda|cpu    device of the tests, the main job and the timings (default: cuda)
  --quick              main job 300 iterations, short timings (100 steps; gated_conv on CPU 20)
  --skip-tests         do not run the test suite
  --main-iterations N  iterations of the main job (default: the config's 20000; 300 with --quick)
  --out FILE           results JSON (default: $OUT/gpu-check.json when $OUT is set,
                       else .gpu-check/results.json)
  -h, --help           this text

environment:
  GPU_CHECK_DIR        the working folder (default: .gpu-check in the source tree)
  GPU_CHECK_NO_DPKG=1  unpack with ar + tar even when dpkg is present
  OUT                  when set, logs and the results JSON are written there

Logs (build, ctest, main job) go to $OUT when set, else .gpu-check/logs/.
EOF
}

work=$(abspath "${GPU_CHECK_DIR:-$src/.gpu-check}")
debs=$work/debs
root=$work/root
multiarch=x86_64-linux-gnu
t0=$SECONDS
say() { printf '[gpu-check %02d:%02d] %s\n' $(((SECONDS - t0) / 60)) $(((SECONDS - t0) % 60)) "$*"; }
die() { echo "gpu-check: error: $*" >&2; exit 1; }
jobs=$(nproc 2>/dev/null || echo 2)
now() { date +%s.%N; }
since() { python3 -c 'import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))' "$1" "$(now)"; }

# ---------------------------------------------------------------------------------------- fetch
# The packages named here, with every direct dependency among those libraries (followed to the end):
# libboost-filesystem1.74-dev pulls in libboost-system1.74-dev and libboost-system1.74.0 on Debian 12.
fetch_packages=(nlohmann-json3-dev libfmt-dev libfmt9 libboost1.74-dev libboost-filesystem1.74-dev
                libboost-filesystem1.74.0 libcli11-dev libgtest-dev libgmock-dev libgloo-dev libgloo0)
fetch_follow='^lib(boost|fmt|gtest|gmock|gloo)'

cmd_fetch() {
  command -v apt-get >/dev/null || die "fetch needs apt-get (run it on a Debian 12 machine)"
  local -A seen=()
  local queue=("${fetch_packages[@]}") all=() p d
  if ! apt-cache show "${fetch_packages[0]}" >/dev/null 2>&1; then
    say "apt lists lack ${fetch_packages[0]}: apt-get update"
    scripts/as-root.sh apt-get update -qq
  fi
  while ((${#queue[@]})); do
    p=${queue[0]}; queue=("${queue[@]:1}")
    if [[ -n ${seen[$p]:-} ]]; then continue; fi
    seen[$p]=1; all+=("$p")
    while read -r d; do
      if [[ $d =~ $fetch_follow && -z ${seen[$d]:-} ]]; then queue+=("$d"); fi
    done < <(apt-cache depends "$p" 2>/dev/null | sed -n 's/^ *|\{0,1\}\(Pre\)\{0,1\}Depends: *//p' | tr -d '<>')
  done
  say "fetch: downloading ${#all[@]} packages: ${all[*]}"
  local tmp
  mkdir -p "$work"
  tmp=$(mktemp -d "$work/debs-new.XXXXXX")
  chmod 755 "$tmp"  # apt downloads as user _apt, which must be able to write there
  if ! (cd "$tmp" && apt-get download -q "${all[@]}" >"$tmp/apt.log" 2>&1); then
    cat "$tmp/apt.log" >&2; rm -rf "$tmp"
    die "apt-get download failed (try: apt-get update)"
  fi
  rm -f "$tmp/apt.log"
  rm -rf "$debs"; mv "$tmp" "$debs"
  local bytes
  bytes=$(du -cb "$debs"/*.deb | tail -n1 | cut -f1)
  (cd "$debs" && ls -1 -- *.deb) | sed 's/^/  /'
  say "fetch: $(ls "$debs"/*.deb | wc -l) .debs, $bytes bytes ($(python3 -c "print(round($bytes/1048576, 1))") MiB) in $debs"
}

# --------------------------------------------------------------------------------------- unpack
unpack_method() {  # dpkg (dpkg -x), dpkg-deb or ar (ar x + tar of data.tar.*)
  if [[ ${GPU_CHECK_NO_DPKG:-0} == 1 ]]; then echo ar
  elif command -v dpkg >/dev/null; then echo dpkg
  elif command -v dpkg-deb >/dev/null; then echo dpkg-deb
  else echo ar
  fi
}
extract_deb() {  # extract_deb DEB DEST
  local deb=$1 dest=$2
  case $(unpack_method) in
    dpkg) dpkg -x "$deb" "$dest"; return ;;
    dpkg-deb) dpkg-deb -x "$deb" "$dest"; return ;;
  esac
  command -v ar >/dev/null || die "neither dpkg nor ar (binutils) is available to unpack $deb"
  local tmp data flag=()
  tmp=$(mktemp -d)
  (cd "$tmp" && ar x "$deb")
  data=$(ls "$tmp"/data.tar* 2>/dev/null | head -n1)
  [[ -n $data ]] || { rm -rf "$tmp"; die "$deb: no data.tar.* member"; }
  case $data in
    *.xz) flag=(-J) ;; *.gz) flag=(-z) ;; *.bz2) flag=(-j) ;; *.zst) flag=(--zstd) ;; *.tar) flag=() ;;
    *) rm -rf "$tmp"; die "$deb: unknown member $(basename "$data")" ;;
  esac
  tar "${flag[@]}" -xf "$data" -C "$dest"
  rm -rf "$tmp"
}

cmd_unpack() {
  shopt -s nullglob
  local files=("$debs"/*.deb)
  shopt -u nullglob
  ((${#files[@]})) || die "no .deb files in $debs: run scripts/gpu-check.sh fetch on a Debian machine first"
  rm -rf "$root"; mkdir -p "$root"
  local f how
  how=$(unpack_method)
  for f in "${files[@]}"; do extract_deb "$(cd "$(dirname "$f")" && pwd)/$(basename "$f")" "$root"; done
  # Absolute symlinks point into / of this machine: make them point into the root instead.
  local l target
  while IFS= read -r -d '' l; do
    target=$(readlink "$l")
    if [[ $target == /* ]]; then ln -sfn "$root$target" "$l"; fi
  done < <(find "$root" -type l -print0)
  say "unpack: ${#files[@]} .debs -> $root (${how/#ar/ar + tar})"
}

# ---------------------------------------------------------------------------------- common opts
torch_prefix="" build_dir="" device=cuda quick=0 skip_tests=0 out_file="" dry_run=0 main_iterations=""
parse_opts() {  # parse_opts COMMAND ARGS...: build takes the build options, run the run options, all both
  local cmd=$1; shift
  while (($#)); do
    case $1 in
      -h|--help) usage; exit 0 ;;
      --torch-prefix|--dry-run) [[ $cmd != run ]] || die "$1 is an option of build (see -h)" ;;
      --build-dir) ;;
      --*) [[ $cmd != build ]] || die "$1 is an option of run (see -h)" ;;
    esac
    case $1 in
      --torch-prefix) torch_prefix=${2:?--torch-prefix needs a DIR}; shift 2 ;;
      --build-dir) build_dir=${2:?--build-dir needs a DIR}; shift 2 ;;
      --device) device=${2:?--device needs cuda or cpu}; shift 2
                [[ $device == cuda || $device == cpu || $device =~ ^cuda:[0-9]+$ ]] || die "--device: expected cuda or cpu, found '$device'" ;;
      --quick) quick=1; shift ;;
      --skip-tests) skip_tests=1; shift ;;
      --main-iterations) main_iterations=${2:?--main-iterations needs N}; shift 2
                         [[ $main_iterations =~ ^[1-9][0-9]*$ ]] || die "--main-iterations: expected a positive integer" ;;
      --out) out_file=${2:?--out needs a FILE}; shift 2 ;;
      --dry-run) dry_run=1; shift ;;
      *) usage >&2; die "unknown option '$1'" ;;
    esac
  done
  if [[ -n $build_dir ]]; then build_dir=$(abspath "$build_dir"); else build_dir=$src/build-gpu; fi
  [[ -z $torch_prefix ]] || torch_prefix=$(abspath "$torch_prefix")
  [[ -z $out_file ]] || out_file=$(abspath "$out_file")
}
log_dir() {
  local d
  d=$(abspath "${OUT:-$work/logs}")
  mkdir -p "$d"; echo "$d"
}
root_env() {  # the Debian runtime libraries load from the root
  if [[ -d $root/usr/lib/$multiarch ]]; then
    export LD_LIBRARY_PATH="$root/usr/lib/$multiarch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
}

# ---------------------------------------------------------------------------------------- build
cmd_build() {
  if [[ -z $torch_prefix ]]; then
    command -v python3 >/dev/null || die "no python3 to find torch: pass --torch-prefix DIR"
    torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null) ||
      die "no torch found: python3 cannot import torch (pip install torch, or pass --torch-prefix DIR)"
  fi
  [[ -d $torch_prefix ]] || die "no torch found: --torch-prefix $torch_prefix is not a folder"
  [[ -n $(find "$torch_prefix" -maxdepth 5 -name TorchConfig.cmake -print -quit 2>/dev/null) ]] ||
    die "no torch found: no TorchConfig.cmake under $torch_prefix"
  cmd_unpack
  # nvcc often lives outside PATH; Caffe2's CMake config looks for the CUDA toolkit.
  if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then export PATH=/usr/local/cuda/bin:$PATH; fi
  local usr=$root/usr gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  # A pip torch ships its own fmt headers (torch/include/fmt, a newer fmt than Debian's libfmt9) and
  # they come first on the include path: compile fmt header-only so no fmt symbol is taken from
  # libfmt.so.9, whichever headers win. -isystem: the root's headers, in case a config adds none.
  local cxx_flags="-isystem $usr/include -DFMT_HEADER_ONLY=1"
  local configure=(cmake -S "$src" -B "$build_dir" "${gen[@]}"
    -DCMAKE_BUILD_TYPE=Release
    "-DCMAKE_PREFIX_PATH=$torch_prefix;$usr"
    "-DBoost_ROOT=$usr" -DBoost_NO_SYSTEM_PATHS=ON
    -DPRIORLAB_WITH_OPENCV=OFF -DPRIORLAB_WITH_MATIO=OFF -DPRIORLAB_WITH_TENSORBOARD=OFF -DPRIORLAB_BUILD_TESTS=ON
    "-DCMAKE_CXX_FLAGS=$cxx_flags")
  # A CUDA torch's CMake files enable the CUDA language and look for the toolkit: name its nvcc,
  # and give the architecture so no GPU probe is compiled (9.0: Hopper; override with the variable).
  if command -v nvcc >/dev/null; then
    configure+=("-DCMAKE_CUDA_COMPILER=$(command -v nvcc)")
    export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}
  fi
  local build=(cmake --build "$build_dir" -j "$jobs")
  if ((dry_run)); then
    printf '%q ' "${configure[@]}"; echo
    printf '%q ' "${build[@]}"; echo
    return
  fi
  root_env
  local logs; logs=$(log_dir)
  say "build: configure $build_dir (torch: $torch_prefix${gen:+, Ninja}) -> $logs/build.log"
  if ! "${configure[@]}" >"$logs/build.log" 2>&1; then
    tail -n 40 "$logs/build.log"; die "configure failed (full log: $logs/build.log)"
  fi
  say "build: compiling with $jobs jobs"
  if ! "${build[@]}" >>"$logs/build.log" 2>&1; then
    grep -n -m 20 -E 'error|Error' "$logs/build.log" || true
    tail -n 30 "$logs/build.log"; die "build failed (full log: $logs/build.log)"
  fi
  [[ -x $build_dir/bin/priorlab ]] || die "build finished but $build_dir/bin/priorlab is missing"
  say "build: done ($(grep -c -i 'warning:' "$logs/build.log" || true) warnings)"
}

# ------------------------------------------------------------------------------------------ run
# ms/step from metrics.jsonl: cumulative "seconds" between the first logged line and the last.
steps_py='
import json, sys
path, model, device, batch, rc = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
rows = []
try:
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                j = json.loads(line)
                if isinstance(j.get("step"), (int, float)) and isinstance(j.get("seconds"), (int, float)):
                    rows.append(j)
except OSError:
    pass
entry = {"model": model, "device": device, "batch": batch, "ms_per_step": None, "steps_timed": 0, "exit_code": rc}
if len(rows) >= 2 and rows[-1]["step"] > rows[0]["step"]:
    steps = rows[-1]["step"] - rows[0]["step"]
    entry["ms_per_step"] = round((rows[-1]["seconds"] - rows[0]["seconds"]) / steps * 1000, 4)
    entry["steps_timed"] = int(steps)
print(json.dumps(entry))
'

time_step() {  # time_step MODEL DEVICE BATCH ITERATIONS LOG_EVERY CONFIG [--set ...]
  local model=$1 dev=$2 batch=$3 iters=$4 every=$5 config=$6; shift 6
  local name="time_${model}_${dev//:/_}" rc=0 start
  start=$(now)
  "$exe" run "$config" --out "$runs" --force --set "name=$name" --set "device=$dev" \
      --set 'evaluators=[]' --set "training.log_every=$every" --set training.checkpoint_every=0 \
      --set "training.iterations=$iters" "$@" >"$logs/steps-$name.log" 2>&1 || rc=$?
  python3 -c "$steps_py" "$runs/$name/metrics.jsonl" "$model" "$dev" "$batch" "$rc" >>"$steps_file"
  local ms; ms=$(tail -n1 "$steps_file" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ms_per_step"])')
  ((rc == 0)) || { echo "gpu-check: timing run $name failed (exit $rc):" >&2; tail -n 5 "$logs/steps-$name.log" >&2; }
  say "steps: $model on $dev: $ms ms/step ($iters iterations, $(since "$start") s)"
}

cmd_run() {
  exe=$build_dir/bin/priorlab
  [[ -x $exe ]] || die "no $exe: build first (scripts/gpu-check.sh build --build-dir $build_dir)"
  command -v python3 >/dev/null || die "run needs python3 (all JSON work is done with it)"
  root_env
  # The consumer test configures a CMake project of its own: give it the build's prefix path.
  local cache_prefix
  cache_prefix=$(sed -n 's/^CMAKE_PREFIX_PATH:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null | head -n1)
  [[ -z $cache_prefix ]] || export CMAKE_PREFIX_PATH="${cache_prefix//;/:}${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  logs=$(log_dir)
  if [[ -z $out_file ]]; then
    if [[ -n ${OUT:-} ]]; then out_file=$(abspath "$OUT")/gpu-check.json; else out_file=$work/results.json; fi
  fi
  mkdir -p "$(dirname "$out_file")"
  mkdir -p "$work"
  runs=$(mktemp -d "$work/runs.XXXXXX")
  steps_file=$runs/steps.jsonl; : >"$steps_file"
  trap 'rm -rf "$runs"' EXIT

  # Machine facts.
  local gpu_csv="" torch_info=""
  if command -v nvidia-smi >/dev/null; then
    gpu_csv=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true)
  fi
  torch_info=$(python3 -c 'import torch; print(torch.__version__, torch.cuda.is_available())' 2>/dev/null || true)
  say "run: $exe on $device; gpu: ${gpu_csv:-none}; python torch: ${torch_info:-none}"

  # The test suite.
  local t_rc=skipped t_passed="" t_failed="" t_total="" t_names="" t_seconds=""
  if ((skip_tests)); then
    say "tests: skipped (--skip-tests)"
  else
    command -v ctest >/dev/null || die "no ctest on PATH"
    say "tests: ctest -j$jobs on $device -> $logs/ctest.log"
    local start; start=$(now); t_rc=0
    PRIORLAB_TEST_DEVICE=$device ctest --test-dir "$build_dir" -j"$jobs" --timeout 600 --output-on-failure \
      >"$logs/ctest.log" 2>&1 || t_rc=$?
    t_seconds=$(since "$start")
    local line
    line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$logs/ctest.log" | tail -n1 || true)
    if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
      t_failed=${BASH_REMATCH[1]}; t_total=${BASH_REMATCH[2]}; t_passed=$((t_total - t_failed))
    fi
    t_names=$(sed -n '/The following tests FAILED:/,$p' "$logs/ctest.log" |
              sed -n 's/^[[:space:]]*[0-9]\{1,\} - \(.*\) (\([^()]*\))[[:space:]]*$/\1/p')
    say "tests: ${t_passed:-?} passed, ${t_failed:-?} failed of ${t_total:-?} (exit $t_rc, $t_seconds s)"
    [[ -z $t_names ]] || sed 's/^/  FAILED: /' <<<"$t_names"
  fi

  # The main job.
  local m_iters=${main_iterations:-}
  if ((quick)); then m_iters=${m_iters:-300}; fi
  local m_set=(); [[ -z $m_iters ]] || m_set=(--set "training.iterations=$m_iters")
  # The resolved pipeline: the config extends configs/pendulum/base.json, which holds the budget.
  m_iters=${m_iters:-$("$exe" validate configs/pendulum/vhp_rewo.json | python3 -c 'import json, sys; print(json.load(sys.stdin)["training"]["iterations"])')}
  say "main job: configs/pendulum/vhp_rewo.json on $device, $m_iters iterations -> $logs/main-job.log"
  local m_rc=0 start; start=$(now)
  "$exe" run configs/pendulum/vhp_rewo.json --out "$runs" --force --set "device=$device" "${m_set[@]}" \
    >"$logs/main-job.log" 2>&1 || m_rc=$?
  local m_seconds; m_seconds=$(since "$start")
  local m_mae
  m_mae=$(python3 -c 'import json,sys
try: print(json.load(open(sys.argv[1]))["evaluators"]["pendulum_angle"]["mae_rad"])
except Exception: print("")' "$runs/pendulum_vhp_rewo/summary.json")
  say "main job: exit $m_rc, $m_seconds s, pendulum_angle.mae_rad ${m_mae:-missing}"
  ((m_rc == 0)) || tail -n 8 "$logs/main-job.log"

  # Step timings, on the device and on this machine's CPU.
  local devices=("$device"); [[ $device == cpu ]] || devices+=(cpu)
  local n=400 cpu_conv_n=60 cpu_conv_every=20
  if ((quick)); then n=100; cpu_conv_n=20; cpu_conv_every=10; fi
  local table3=(--set 'network.options.hidden=[256,256,256,256]' --set network.options.activation=relu
                --set 'prior.options.hidden=[256,256,256,256]' --set prior.options.activation=relu
                --set prior.options.samples=16 --set training.batch_size=64)
  # No MNIST files on the GPU box: the generated pendulum at 28x28 stands in (the step's cost does
  # not depend on the pixel values).
  local conv=(--set 'dataset={"plugin":"pendulum","options":{"image_size":28,"size":3000}}' --set training.batch_size=100)
  local d
  for d in "${devices[@]}"; do
    time_step pendulum_vhp_mlp4x256 "$d" 64 "$n" 50 configs/pendulum/vhp_rewo.json "${table3[@]}"
    if [[ $d == cpu ]]; then
      time_step mnist_gated_conv_vhp_rewo "$d" 100 "$cpu_conv_n" "$cpu_conv_every" configs/mnist/paper/vhp_rewo.json "${conv[@]}"
    else
      time_step mnist_gated_conv_vhp_rewo "$d" 100 "$n" 50 configs/mnist/paper/vhp_rewo.json "${conv[@]}"
    fi
  done

  # One JSON file, written atomically.
  GC_DEVICE=$device GC_GPU=$gpu_csv GC_TORCH=$torch_info GC_SKIP=$skip_tests GC_TRC=$t_rc \
  GC_TPASSED=$t_passed GC_TFAILED=$t_failed GC_TTOTAL=$t_total GC_TNAMES=$t_names GC_TSECONDS=$t_seconds \
  GC_MRC=$m_rc GC_MSECONDS=$m_seconds GC_MMAE=$m_mae GC_MITERS=$m_iters GC_STEPS=$steps_file \
  GC_QUICK=$quick GC_JOBS=$jobs GC_BUILD=$build_dir GC_LOGS=$logs python3 - "$out_file" <<'EOF'
import datetime, json, os, socket, sys
e = os.environ
def num(s, kind=float):
    return kind(s) if s not in (None, "") else None
gpus = [l.strip() for l in e["GC_GPU"].splitlines() if l.strip()]
def gpu(line):
    f = [x.strip() for x in line.split(",")]
    return {"name": f[0], "driver_version": f[1] if len(f) > 1 else None, "memory_total": f[2] if len(f) > 2 else None}
torch = e["GC_TORCH"].split()
with open(e["GC_STEPS"]) as f:
    steps = [json.loads(l) for l in f if l.strip()]
result = {
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "host": socket.gethostname(),
    "device": e["GC_DEVICE"],
    "cpu_cores": int(e["GC_JOBS"]),
    "quick": e["GC_QUICK"] == "1",
    "build_dir": e["GC_BUILD"],
    "logs": e["GC_LOGS"],
    "gpu": gpu(gpus[0]) if gpus else None,
    "gpu_count": len(gpus),
    "torch_version": torch[0] if torch else None,
    "torch_cuda_available": (torch[1] == "True") if len(torch) > 1 else None,
    "tests": None if e["GC_SKIP"] == "1" else {
        "passed": num(e["GC_TPASSED"], int), "failed": num(e["GC_TFAILED"], int),
        "total": num(e["GC_TTOTAL"], int),
        "failed_names": [n for n in e["GC_TNAMES"].splitlines() if n.strip()],
        "seconds": num(e["GC_TSECONDS"]), "exit_code": int(e["GC_TRC"]),
    },
    "main_job": {
        "config": "configs/pendulum/vhp_rewo.json",
        "exit_code": int(e["GC_MRC"]), "seconds": num(e["GC_MSECONDS"]),
        "mae_rad": num(e["GC_MMAE"]), "iterations": int(e["GC_MITERS"]),
    },
    "steps": steps,
    "steps_note": ("ms_per_step = (seconds_last - seconds_first) / (step_last - step_first) * 1000 over "
                   "metrics.jsonl, the first logged interval skipped as warm-up. pendulum_vhp_mlp4x256: "
                   "configs/pendulum/vhp_rewo.json with Table 3 networks (MLP 256x4 relu, VHP K=16), batch 64. "
                   "mnist_gated_conv_vhp_rewo: configs/mnist/paper/vhp_rewo.json at batch 100 with the dataset "
                   "replaced by the generated pendulum at 28x28 (no MNIST files on the GPU box; the step's "
                   "cost does not depend on pixel values)."),
}
out = sys.argv[1]
tmp = f"{out}.part{os.getpid()}"
with open(tmp, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")
os.replace(tmp, out)
EOF
  say "results: $out_file"
  python3 - "$out_file" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
t, m = r["tests"], r["main_job"]
print("summary:")
print(f"  gpu        {r['gpu']['name'] + ', driver ' + r['gpu']['driver_version'] if r['gpu'] else 'none'}; torch {r['torch_version']}")
print("  tests      " + ("skipped" if t is None else f"{t['passed']} passed, {t['failed']} failed of {t['total']} in {t['seconds']} s"
      + ("" if not t["failed_names"] else ": " + ", ".join(t["failed_names"][:8]) + (" ..." if len(t["failed_names"]) > 8 else ""))))
print(f"  main job   exit {m['exit_code']}, {m['iterations']} iterations in {m['seconds']} s, mae_rad {m['mae_rad']}")
for s in r["steps"]:
    print(f"  step       {s['model']:<28} {s['device']:<6} batch {s['batch']:<4} {s['ms_per_step']} ms/step ({s['steps_timed']} steps timed)")
EOF
}

# ----------------------------------------------------------------------------------------- main
cmdname=${1:-}
[[ -n $cmdname ]] || { usage >&2; exit 2; }
shift
case $cmdname in
  -h|--help|help) usage ;;
  fetch) (($# == 0)) || { [[ $1 == -h || $1 == --help ]] && { usage; exit 0; }; die "fetch takes no options"; }
         cmd_fetch ;;
  unpack) (($# == 0)) || { [[ $1 == -h || $1 == --help ]] && { usage; exit 0; }; die "unpack takes no options"; }
          cmd_unpack ;;
  build) parse_opts build "$@"; cmd_build ;;
  run) parse_opts run "$@"; cmd_run ;;
  all) parse_opts all "$@"; cmd_build; ((dry_run)) || cmd_run ;;
  *) usage >&2; die "unknown command '$cmdname'" ;;
esac
