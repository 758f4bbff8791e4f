#!/usr/bin/env bash
# Installs the Debian packages named on the command line that are missing (apt-get, through
# sudo unless root). Used by setup.sh, fuzz.sh and sanitize.sh. Usage: scripts/install-packages.sh PKG...
set -euo pipefail
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]})) || exit 0
echo "install-packages: installing ${missing[*]}"
as_root="$(dirname "$0")/as-root.sh"
"$as_root" apt-get update -qq
# Through env: sudo does not pass DEBIAN_FRONTEND from this environment.
"$as_root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
