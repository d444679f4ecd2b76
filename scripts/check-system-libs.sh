#!/usr/bin/env bash
# Fails when the default build needs a system library that the README's quick start does not
# install. The quick start's one apt line gives a C toolchain with make, pkg-config, OpenSSL and
# zlib; every `-sys` crate the default features build (normal and build dependencies, on this
# platform) must be on the allow-list below, which says what each one needs.
#
#   scripts/check-system-libs.sh                      # the default build (what .ci/run checks)
#   scripts/check-system-libs.sh --features kerberos  # another feature set (extra args go to
#                                                     # `cargo tree`): shows what it adds
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A allowed=(
  [openssl-sys]="OpenSSL: libssl-dev, found with pkg-config"
  [libz-sys]="zlib: zlib1g-dev (without it, its bundled copy is built)"
  [rdkafka-sys]="librdkafka, built from its bundled sources: make and a C compiler"
  [linux-raw-sys]="Linux system call bindings in Rust: no library"
)

found=$(cargo tree --locked -e normal,build --prefix none --format '{p}' "$@" |
  awk '{print $1}' | grep -E -- '-sys$' | sort -u)

bad=()
echo "-sys crates of the build (cargo tree -e normal,build ${*:-with the default features}):"
for crate in $found; do
  if [[ -n ${allowed[$crate]:-} ]]; then
    printf '  %-16s ok: %s\n' "$crate" "${allowed[$crate]}"
  else
    printf '  %-16s NOT ON THE ALLOW-LIST\n' "$crate"
    bad+=("$crate")
  fi
done
((${#bad[@]} == 0)) && exit 0

cat >&2 <<EOF

FAILED: this build needs ${bad[*]}, which links a system library the README's quick start
does not install, so a new user's first \`cargo run\` stops there. See what pulls it in:
  cargo tree -e features -i ${bad[0]}${*:+ $*}
Then either
  - make it opt-in: put the dependency or the dependency's feature behind a cargo feature of
    Couplet, off by default (as \`kerberos = ["rdkafka/gssapi"]\` does for sasl2-sys), with a
    clear error naming the feature where the configuration asks for it; or
  - build it from bundled sources (a \`vendored\` / \`static\` feature of the crate); or
  - if every build must have it: add its Debian package to the quick start's apt line in
    README.md and to .ci/run, and the crate to the allow-list in scripts/check-system-libs.sh.
EOF
exit 1
