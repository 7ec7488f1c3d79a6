#!/bin/sh
# Builds weft's managed-plugin directory (config.json + rootfs/) from a release binary, and creates the plugin
# in a Docker engine if one answers. Called by `make plugin`; usage: build-plugin.sh BINARY OUTDIR [NAME]
#   BINARY  the release `weft` (built with --static-swift-stdlib, so only the C runtime and libmnl are shared)
#   OUTDIR  the plugin directory to (re)make: OUTDIR/config.json, OUTDIR/rootfs
#   NAME    the plugin name for `docker plugin create` (default weft:latest)
# DOCKER (default: docker) is the CLI; DOCKER_HOST picks the engine. Without an engine that answers, it stops
# after building the directory and says so; PLUGIN_CREATE=no stops there in any case.
set -eu
binary=$1
out=$2
name=${3:-weft:latest}
docker=${DOCKER:-docker}
spec=$(cd "$(dirname "$0")" && pwd)

[ -x "$binary" ] || { echo "build-plugin: no executable at $binary" >&2; exit 1; }
rm -rf "$out"
rootfs=$out/rootfs
# Mount points the runtime needs (/proc, /dev, /sys, /tmp, /run/docker/plugins for the socket, /etc for the
# hosts and resolv.conf bind mounts), weft's directories (/var/lib/weft: the state mount; /run/weft: the
# propagated mount holding the per-network namespaces), /run/wireguard for wireguard-go's UAPI socket (/var/run
# links to /run, as on Debian). weft runs only nft, wireguard-go and ip, so no shell or other tools.
mkdir -p "$rootfs/bin" "$rootfs/proc" "$rootfs/dev" "$rootfs/sys" "$rootfs/tmp" "$rootfs/etc" \
  "$rootfs/run/docker/plugins" "$rootfs/run/weft" "$rootfs/run/wireguard" "$rootfs/var/lib/weft"
ln -s ../run "$rootfs/var/run"
chmod 1777 "$rootfs/tmp"
cp "$binary" "$rootfs/bin/weft"
strip --strip-all "$rootfs/bin/weft"
# nft, which weft runs inside its namespaces to serve swarm services' VIPs (nftables rules).
nft=$(command -v nft || echo /usr/sbin/nft)
[ -x "$nft" ] || { echo "build-plugin: no nft (Debian package nftables) to copy into the plugin" >&2; exit 1; }
mkdir -p "$rootfs/usr/sbin" "$rootfs/usr/bin"
cp -L "$nft" "$rootfs/usr/sbin/nft"
# wireguard-go, which weft runs as its child for the WireGuard interface of encrypted networks (the kernel's
# WireGuard is not used yet), and ip, with which it writes their fail-closed blackhole route. Without them the
# plugin refuses encrypted networks, saying so.
wireguard=$(command -v wireguard-go || echo /usr/bin/wireguard-go)
ip=$(command -v ip || echo /usr/sbin/ip)
[ -x "$wireguard" ] || { echo "build-plugin: no wireguard-go (Debian package wireguard-go) to copy into the plugin" >&2; exit 1; }
[ -x "$ip" ] || { echo "build-plugin: no ip (Debian package iproute2) to copy into the plugin" >&2; exit 1; }
cp -L "$wireguard" "$rootfs/usr/bin/wireguard-go"
cp -L "$ip" "$rootfs/usr/sbin/ip"
# The shared libraries weft, nft, wireguard-go and ip name, and the dynamic loader, at the paths ldd gives.
for library in $( (ldd "$binary"; ldd "$nft"; ldd "$wireguard"; ldd "$ip") | grep -o '/[^ ]*' | sort -u); do
  mkdir -p "$rootfs$(dirname "$library")"
  cp -L "$library" "$rootfs$library"
done
: > "$rootfs/etc/hosts"
: > "$rootfs/etc/resolv.conf"
cp "$spec/config.json" "$out/config.json"

echo "build-plugin: $out: rootfs $(du -sh "$rootfs" | cut -f1) ($(du -sh "$rootfs/bin/weft" | cut -f1) weft, stripped);" \
  "shared libraries: $(ldd "$binary" | grep -o '/[^ ]*' | xargs -n1 basename | tr '\n' ' ')"

if [ "${PLUGIN_CREATE:-auto}" = no ]; then
  echo "build-plugin: plugin directory ready; create it with: $docker plugin create $name $out"
  exit 0
fi
if ! "$docker" version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  echo "build-plugin: no Docker engine answers${DOCKER_HOST:+ at $DOCKER_HOST}; the plugin directory is built," \
    "create it with: $docker plugin create $name $out"
  exit 0
fi
if "$docker" plugin inspect "$name" >/dev/null 2>&1; then
  echo "build-plugin: $name already exists in the engine; remove it first (docker plugin disable $name &&" \
    "docker plugin rm $name)" >&2
  exit 1
fi
"$docker" plugin create "$name" "$out"
echo "build-plugin: created $name; then: mkdir -p /var/lib/weft && docker plugin enable $name"
echo "build-plugin: enable it on every node before it joins the swarm; on a manager, every node must list $name in:"
echo "  docker node ls -q | xargs docker node inspect --format '{{.Description.Hostname}}: {{range .Description.Engine.Plugins}}{{if eq .Type \"Network\"}}{{.Name}} {{end}}{{end}}'"
