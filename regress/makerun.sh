#!/usr/bin/env bash
# make run: moatd in the foreground on tcp://127.0.0.1:2375 in front of
# /var/run/docker.sock, or, where no Docker engine answers there, in front
# of the test rig's private dockerd (torn down again on exit).
set -u
cd "$(dirname "$0")/.."

MOATD=$PWD/moatd
FRONT=${MOATD_RUN_FRONTEND:-tcp://127.0.0.1:2375}
SOCK=/var/run/docker.sock

id _moatd >/dev/null 2>&1 || useradd --system --no-create-home \
    --home-dir /nonexistent --shell /usr/sbin/nologin _moatd

if curl -sf --max-time 2 --unix-socket "$SOCK" http://docker/_ping \
    >/dev/null 2>&1; then
	echo "make run: using the Docker engine on $SOCK"
else
	# shellcheck source=regress/lib.sh
	. regress/lib.sh
	# shellcheck source=regress/rig.sh
	. regress/rig.sh
	trap 'rig_stop' EXIT
	trap 'exit 130' INT TERM
	echo "make run: no engine on $SOCK, starting the rig's private dockerd"
	rig_start || exit 1
	SOCK=$RIG_SOCK
	echo "make run: private engine on $RIG_HOST (image $RIG_IMAGE)"
fi
echo "make run: DOCKER_HOST=${FRONT} docker version"
"$MOATD" -d -frontend-addr "$FRONT" -backend-addr "unix://$SOCK" "$@"
