#!/usr/bin/env bash
# Builds a signed release archive: fabula-<version>-<target>.tar.gz with the binary, README,
# licence, .desktop file and icon, signed with the ed25519 key given by path (zipsign format,
# the signature context is the archive's file name, as the updater checks it).
#
#   scripts/package-release.sh --key path/to/priv.key [--out dist]
#
# The matching public key is compiled into the binary from FABULA_UPDATE_PUBLIC_KEY (64 hex
# digits); this script derives it from the private key, so the two can never disagree.
set -euo pipefail
cd "$(dirname "$0")/.."

key=""
out="dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --key) key="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: $0 --key PRIVATE_KEY [--out DIR]" >&2; exit 2 ;;
  esac
done
[ -n "$key" ] && [ -f "$key" ] || { echo "package: give the signing key with --key (see README, Releasing)" >&2; exit 2; }

command -v zipsign >/dev/null 2>&1 || cargo install --locked zipsign

version=$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["packages"][0]["version"])')
target=$(rustc -vV | sed -n 's/^host: //p')
name="fabula-${version}-${target}"

# The public half, as 64 hex digits, for the binary to verify updates with.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pub_file="$stage/public.key"
zipsign gen-key --extract --force "$key" "$pub_file"
public_hex=$(od -An -tx1 -v "$pub_file" | tr -d ' \n')
[ ${#public_hex} -eq 64 ] || { echo "package: could not derive the public key from $key" >&2; exit 1; }

FABULA_UPDATE_PUBLIC_KEY="$public_hex" cargo build --release --locked

# Everything at the archive root: the updater extracts `fabula` from there.
mkdir -p "$stage/$name" "$out"
cp target/release/fabula README.md LICENSE assets/fabula.desktop assets/fabula.svg "$stage/$name/"
tar -C "$stage/$name" -czf "$stage/unsigned.tar.gz" fabula README.md LICENSE fabula.desktop fabula.svg
zipsign sign tar "$stage/unsigned.tar.gz" "$key" --output "$out/$name.tar.gz" --context "$name.tar.gz" --force
zipsign verify tar "$out/$name.tar.gz" "$pub_file" --context "$name.tar.gz"
echo "$out/$name.tar.gz (public key $public_hex)"
