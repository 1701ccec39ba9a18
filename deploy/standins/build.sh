#!/usr/bin/env bash
# `make compose-check`, first half: what a machine without Docker needs to run
# docker-compose.yml for real (docs/docker.md, "The compose check").
#
#  1. Debian's podman, runc, netavark/aardvark-dns (container networks with name resolution),
#     iptables (netavark's firewall; a recommended package, so named here) and debootstrap,
#     installed with apt-get (root only; elsewhere it says what is missing).
#  2. The wheel set (.cache/wheels, ignored by git, read by the Dockerfiles): every wheel the
#     images install, downloaded here once, so no build asks a package index.
#  3. STAND-INS for the official images that cannot be pulled here, built once from Debian
#     and tagged with the official names (python:3.11-slim, nginx:1.28-alpine,
#     redis:7.4-alpine, postgres:17, tensorflow/serving:$TF_SERVING_VERSION). They are NOT the
#     official images: each Containerfile beside this script says what it copies of its
#     original's behaviour. Kept between runs; STANDINS_REBUILD=1 builds them again.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
PY=${PY:-.venv/bin/python}
WHEELS=.cache/wheels
BASES=/var/lib/beat-the-ai-standins  # the debootstrapped trees, outside the repository
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
say() { printf '[standins] %s\n' "$*" >&2; }

# --- 1. packages ------------------------------------------------------------------------------
PACKAGES="podman runc netavark aardvark-dns iptables debootstrap uidmap fuse-overlayfs"
missing=""
for p in $PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then say "missing Debian packages:$missing (run as root)"; exit 1; fi
  say "installing$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# Podman here: rootful, runc (crun refuses in this VM), netavark, the vfs storage driver (no
# overlay mounts inside this VM). No container may raise its rlimits here, so the runtime is a
# wrapper that keeps the ones this machine allows (containers.conf cannot drop Podman's nproc
# default for containers created over the Docker API). Written only when absent or ours.
mkdir -p /etc/containers
if ! [ -e /etc/containers/storage.conf ] || grep -q beat-the-ai /etc/containers/storage.conf; then
  cat >/etc/containers/storage.conf <<'EOF'
# written by beat-the-ai deploy/standins/build.sh
[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
EOF
fi
install -D -m 755 deploy/standins/runc-rlimits /usr/local/libexec/beat-the-ai-runc
if ! [ -e /etc/containers/containers.conf ] || grep -q beat-the-ai /etc/containers/containers.conf
then
  cat >/etc/containers/containers.conf <<'EOF'
# written by beat-the-ai deploy/standins/build.sh
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
[engine.runtimes]
runc = ["/usr/local/libexec/beat-the-ai-runc"]
[network]
network_backend = "netavark"
EOF
fi

# --- 2. the wheel set ---------------------------------------------------------------------------
# Everything the images install, for this machine's CPython 3.11 on x86-64 Linux (the
# images' too), binary wheels only (no compiler in any image). The project itself is built in the image from its sources, with
# the setuptools from this set.
. ./.env  # TF_SERVING_VERSION
TF_MINOR=${TF_SERVING_VERSION%.*}
if ! [ -f "$WHEELS/.complete" ] || [ pyproject.toml -nt "$WHEELS/.complete" ]; then
  say "downloading the wheel set into $WHEELS"
  mkdir -p "$WHEELS"
  reqs=$(mktemp)
  "$PY" - "$TF_MINOR" >"$reqs" <<'EOF'
import sys, tomllib
extras = tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]
wanted = set()
for extra in ("service", "dashboard", "explainer", "image-server"):
    wanted |= {d for d in extras[extra] if not d.startswith("beat-the-ai-cars")}
# the TF Serving stand-in runs the project's model server: TensorFlow and its serving API
wanted |= {f"tensorflow=={sys.argv[1]}.*", f"tensorflow-serving-api=={sys.argv[1]}.*",
           "prometheus-client>=0.20", "numpy>=1.26", "setuptools>=69", "wheel"}
# the python stand-in is Debian's Python 3.11.2, and redis needs async-timeout below 3.11.3
# (a marker this machine's newer 3.11 skips); harmless in the official image
wanted.add("async-timeout>=4.0.3")
print("\n".join(sorted(wanted)))
EOF
  PIP_FIND_LINKS= "$PY" -m pip download -q --only-binary=:all: -d "$WHEELS" -r "$reqs"
  rm -f "$reqs"
  touch "$WHEELS/.complete"
fi

# --- 3. the stand-in images -------------------------------------------------------------------
base() {  # base SUITE: a minimal Debian SUITE imported as localhost/beat-the-ai-standin/debian
  local suite=$1 name=localhost/beat-the-ai-standin/debian:$1
  if podman image exists "$name" && [ -z "${STANDINS_REBUILD:-}" ]; then return; fi
  say "debootstrap $suite (minbase)"
  rm -rf "${BASES:?}/$suite"
  mkdir -p "$BASES"
  debootstrap --variant=minbase "$suite" "$BASES/$suite" "$MIRROR" >/dev/null
  rm -rf "$BASES/$suite"/var/cache/apt/archives/*.deb "$BASES/$suite"/var/lib/apt/lists/*
  tar -C "$BASES/$suite" -c . | podman import -q - "$name" >/dev/null
  rm -rf "${BASES:?}/$suite"
}

standin() {  # standin DIR NAME [CONTEXT]: build deploy/standins/DIR as NAME unless present
  local dir=$1 name=$2 context=${3:-deploy/standins/$1}
  if podman image exists "$name" && [ -z "${STANDINS_REBUILD:-}" ]; then return; fi
  say "building the stand-in $name"
  podman build -q --network host --ulimit "nofile=$(ulimit -n):$(ulimit -n)" \
    --build-arg TF_SERVING_VERSION="$TF_SERVING_VERSION" \
    -f "deploy/standins/$dir/Containerfile" -t "$name" "$context" >/dev/null
}

base bookworm
base sid  # only for nginx: the proxy's `server ... resolve` needs nginx >= 1.27.3
standin python docker.io/library/python:3.11-slim
standin nginx docker.io/library/nginx:1.28-alpine
standin redis docker.io/library/redis:7.4-alpine
standin postgres docker.io/library/postgres:17
standin tensorflow-serving "docker.io/tensorflow/serving:$TF_SERVING_VERSION" "$REPO"
say "stand-ins ready: $(podman images --format '{{.Repository}}:{{.Tag}}' | grep -vc '<none>') images"
