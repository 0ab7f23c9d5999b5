#!/bin/sh
# Install the Debian packages that "make bench" drives, in one apt-get step,
# and only when something is missing.  The comparison targets (nginx as the
# static backend, haproxy as the Tecnativa-style proxy, dockerd as the real
# backend, with busybox-static for regress/rig.sh), the load tools (wrk,
# curl) and perf for the profile look.
set -eu

PKGS="nginx haproxy wrk curl docker.io busybox-static python3 procps
linux-perf"

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
	echo "bench deps: missing Debian packages:$missing (run as root)" >&2
	exit 1
fi
echo "bench deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# nginx's and haproxy's maintainer scripts would start the system services:
# keep them off (policy-rc.d exit 101), the bench runs private instances.
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
