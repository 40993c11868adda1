#!/bin/sh
# Installs the Debian packages gpuhour builds and tests with.
# Called by the Makefile when a library is missing; safe to run by hand.
# As root it runs apt-get; otherwise it prints the exact command and fails.
#
#   deps.sh          the build's and the test suite's packages
#   deps.sh --test   also the large optional test tools: chromium (the
#                    dashboard test) and prometheus (its promtool checks
#                    /metrics); CI installs them, the tests skip or fall
#                    back when they are absent elsewhere
set -eu

pkgs="libsodium-dev libsecp256k1-dev libnng-dev liblmdb-dev pkg-config clang
libclang-rt-14-dev libomp-dev curl"
test_pkgs="chromium prometheus"
if [ "${1:-}" = "--test" ]; then
	pkgs="$pkgs $test_pkgs"
fi
# The tests override the list to check the messages.
pkgs="${GH_DEPS_PKGS:-$pkgs}"

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "gpuhour: missing packages:$missing" >&2
	echo "gpuhour: this is not a Debian system; install the equivalents" \
	    "of:$missing" >&2
	exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "gpuhour: missing Debian packages:$missing" >&2
	echo "gpuhour: run as root:" >&2
	echo "    apt-get update && apt-get install -y$missing" >&2
	exit 1
fi

echo "gpuhour: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends $missing; then
	apt-get update
	apt-get install -y --no-install-recommends $missing
fi
