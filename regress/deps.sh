#!/bin/sh
# Install the Debian packages that building and testing moatd need (and
# any named as arguments: make bench adds its own), in one apt-get step,
# and only when something is missing.
set -eu

PKGS="build-essential pkg-config bison libssl-dev libbsd-dev libpcre2-dev check
libevent-dev libseccomp-dev mandoc curl socat docker.io busybox-static
python3-docker openssl iproute2 procps"
# regress/tests/image.sh reads etc/compose.yaml; profiles.sh runs
# Prometheus's docker discovery through prometheus.list.
PKGS="$PKGS python3-yaml prometheus $*"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case "$st" in
	ii*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# Maintainer scripts would start system services (docker.io, nginx,
# haproxy): keep them off (policy-rc.d exit 101); tests and the bench run
# private instances.
if [ -e /usr/sbin/policy-rc.d ]; then
	apt-get install -y -q $missing
else
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	rc=0
	apt-get install -y -q $missing || rc=$?
	rm -f /usr/sbin/policy-rc.d
	exit $rc
fi
