#!/usr/bin/env bash
# Installs every system package warpsim needs (build, tests, scripts), then configures and
# builds a release build in build/. Idempotent and non-interactive; safe to run again.
#
#   scripts/setup.sh            install packages (if missing) and build
#   WARPSIM_NO_APT=1 scripts/setup.sh   skip the package step (already installed)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential pkg-config meson ninja-build git
  libboost1.81-dev libboost-json1.81-dev libboost-iostreams1.81-dev
  libboost-random1.81-dev libboost-graph1.81-dev libboost-filesystem1.81-dev
  libfmt-dev libyaml-cpp-dev libcli11-dev doctest-dev libbenchmark-dev zlib1g-dev
  python3 python3-numpy python3-pandas python3-matplotlib python3-yaml
  # Sanitizer and fuzz builds (.ci/run, docs/reliability.md): clang with its libFuzzer runtime.
  clang libclang-rt-dev
  # Sweeps on Slurm (the `slurm` test suite starts a local cluster):
  slurm-wlm slurmctld slurmd slurm-client munge
)

if [ -z "${WARPSIM_NO_APT:-}" ]; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

# CI builds with -Werror; a developer build keeps warnings as warnings.
werror=false
[ -n "${CI:-}" ] && werror=true

if [ -f build/build.ninja ]; then
  meson configure build -Dwerror=$werror >/dev/null
else
  meson setup build --buildtype=release -Dwerror=$werror
fi
ninja -C build
