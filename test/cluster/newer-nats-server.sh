#!/usr/bin/env bash
# Print `export NATS_SERVER_BIN=<path>` naming a nats-server that a JetStream cluster can rely on (2.9.16 or later):
# the one on PATH when it is new enough, else Debian trixie's package, fetched with apt (signatures checked against
# this machine's Debian keyring) and unpacked into a cache, without touching the installed one.
#
# Why: up to 2.9.15 a node keeps a route to a frozen peer (SIGSTOP, a hung VM) while traffic flows to it: the
# outgoing messages hold off the pings that would notice (nats-io/nats-server#4014), so queue-group requests
# routed there are lost for as long as it stays frozen. Debian bookworm ships 2.9.10; production runs nats:2.12.
set -euo pipefail

at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }
version_of() { "$1" --version 2>/dev/null | sed -n 's/^nats-server: v\{0,1\}\([0-9.]*\).*/\1/p'; }

system="$(command -v nats-server || echo /usr/sbin/nats-server)"
if [ -x "$system" ] && at_least "$(version_of "$system")" 2.9.16; then
  echo "export NATS_SERVER_BIN=$system"
  exit 0
fi

cache="${XDG_CACHE_HOME:-$HOME/.cache}/cra/nats-server"
if [ -x "$cache/usr/sbin/nats-server" ] && at_least "$(version_of "$cache/usr/sbin/nats-server")" 2.9.16; then
  echo "export NATS_SERVER_BIN=$cache/usr/sbin/nats-server"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache" "$work/debs"
echo "deb http://deb.debian.org/debian trixie main" >"$work/sources.list"
apt_options=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root)
apt-get "${apt_options[@]}" update -qq >&2
(cd "$work/debs" && apt-get "${apt_options[@]}" download nats-server >&2)
rm -rf "$cache"
mkdir -p "$cache"
dpkg-deb -x "$work"/debs/nats-server_*.deb "$cache"
echo "nats-server $(version_of "$cache/usr/sbin/nats-server") unpacked into $cache" >&2
echo "export NATS_SERVER_BIN=$cache/usr/sbin/nats-server"
