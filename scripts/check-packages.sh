#!/usr/bin/env bash
# Fails when the configure step found a package that scripts/setup.sh does not install.
#
# A CMake package found through a config file (every `<Name>_DIR` in the cache), a pkg-config
# module (every `pkgcfg_lib_<PREFIX>_<lib>`) or FindProtobuf (its library and protoc) comes from a
# file on disk; `dpkg -S` names the Debian
# package that owns it. That owner must be one setup.sh installs, or a direct dependency
# (Depends/Pre-Depends) of one it installs: anything else was on this machine by hand, and a
# fresh machine will fail to configure (OpenCVConfig.cmake, owned by libopencv-dev, was such a case).
# Files that belong to no Debian package (a LibTorch unpacked by hand, a build tree) are listed
# and accepted: the user brought them on purpose (see README, "Your own LibTorch / a GPU").
#
# Usage: scripts/check-packages.sh [BUILD_DIR] [setup.sh flags, e.g. -DPRIORLAB_BUILD_TESTS=ON]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
cache=$build/CMakeCache.txt
[[ -f $cache ]] || { echo "check-packages: $cache not found: configure first (scripts/setup.sh)" >&2; exit 2; }
command -v dpkg-query >/dev/null || { echo "check-packages: not a Debian system (no dpkg-query): nothing to check"; exit 0; }

# CHECK_PACKAGES_LIST (space-separated) replaces setup.sh's list: the tests use it to show that
# the check fails for a list without libopencv-dev, the one before this check existed.
if [[ -n ${CHECK_PACKAGES_LIST:-} ]]; then
  read -r -a named <<<"$CHECK_PACKAGES_LIST"
else
  mapfile -t named < <(scripts/setup.sh --list-packages "$@")
fi
declare -A allowed=()
for p in "${named[@]}"; do
  allowed[$p]="named in scripts/setup.sh"
  # Direct dependencies: "a (>= 1), b | c, d:any" -> a b c d.
  deps=$(dpkg-query -W -f='${Pre-Depends}, ${Depends}' "$p" 2>/dev/null || true)
  for d in $(tr ',|' '\n\n' <<<"$deps" | sed -e 's/(.*)//' -e 's/:.*//' -e 's/\s//g' | grep -v '^$' || true); do
    [[ -n ${allowed[$d]:-} ]] || allowed[$d]="a dependency of $p"
  done
done

# The owner of a path: as given, else with its folder resolved (/lib -> /usr/lib, hdf5's lib -> .),
# else fully resolved.
owner_of() {
  local path=$1 candidates=("$1") out
  candidates+=("$(realpath -m "$(dirname "$path")")/$(basename "$path")" "$(realpath -m "$path")")
  for c in "${candidates[@]}"; do
    if out=$(dpkg -S "$c" 2>/dev/null); then
      # "pkg:arch: /path" or "pkg1, pkg2: /path" (a folder several packages share).
      sed -e 's/: \/.*//' -e 's/:[a-z0-9]*//g' -e 's/,/ /g' <<<"${out%%$'\n'*}"
      return 0
    fi
  done
  return 1
}

checked=0 foreign=0 bad=()
while IFS= read -r line; do
  key=${line%%:*}
  value=${line#*=}
  [[ $value == *NOTFOUND* || -z $value ]] && continue
  case $key in
    # Found by a find module (FindProtobuf), not a config file: the library and the compiler.
    Protobuf_LIBRARY_RELEASE | Protobuf_PROTOC_EXECUTABLE)
      [[ -e $value ]] || continue
      file=$value ;;
    *_DIR)
      [[ -d $value ]] || continue
      # The config file inside the folder: <Name>Config.cmake or <name>-config.cmake.
      file=$(find "$value" -maxdepth 1 \( -iname '*Config.cmake' -o -iname '*-config.cmake' \) -print -quit)
      [[ -n $file ]] || continue ;;
    pkgcfg_lib_*)
      [[ -e $value ]] || continue
      file=$value ;;
    *) continue ;;
  esac
  [[ $key == priorlab* || $file == "$PWD"/* || $file == "$(realpath -m "$build")"/* ]] && continue
  checked=$((checked + 1))
  if ! owners=$(owner_of "$file"); then
    echo "check-packages: $key: $file belongs to no Debian package (accepted: brought by hand)"
    foreign=$((foreign + 1))
    continue
  fi
  ok=""
  for o in $owners; do [[ -n ${allowed[$o]:-} ]] && ok="$o (${allowed[$o]})"; done
  if [[ -n $ok ]]; then
    echo "check-packages: $key: $file <- $ok"
  else
    bad+=("$key: $file is owned by '$owners', which scripts/setup.sh does not install (add it to its package list)")
  fi
done < <(grep -E '^[A-Za-z0-9_.+-]+:(PATH|FILEPATH|STRING|INTERNAL)=' "$cache")

if ((${#bad[@]})); then
  printf 'check-packages: FAILED: %s\n' "${bad[@]}" >&2
  echo "check-packages: $checked package files checked, ${#bad[@]} from packages a fresh machine would lack" >&2
  exit 1
fi
echo "check-packages: ok: $checked package files checked, each installed by scripts/setup.sh ($foreign brought by hand)"
