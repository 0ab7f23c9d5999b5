# Smoke tests of the rig itself: the private engine answers and runs
# containers.  (That its teardown leaves nothing behind is checked by
# run.sh after the last test, as rig_teardown.)

t_rig_version() {
	tid "the private dockerd answers docker version"
	run_cmd rig_docker version --format '{{.Server.Version}} {{.Server.APIVersion}}'
	expect_eq "$RC" 0 "docker version exit status ($ERR)"
	expect_match "$OUT" '^[0-9]+\.[0-9]+\.[0-9]+[^ ]* 1\.[0-9]+$' \
	    "server version"
}

t_rig_socket() {
	tid "the engine listens on the rig's own socket only"
	[ -S "$RIG_SOCK" ] || fail "$RIG_SOCK is not a socket"
	expect_status 200 --unix-socket "$RIG_SOCK" http://docker/_ping
	expect_eq "$(cat "$BODY")" OK "/_ping body"
	run_cmd rig_docker info --format '{{.DockerRootDir}}'
	expect_eq "$RC" 0 "docker info exit status ($ERR)"
	expect_match "$OUT" '^/.*/moatd-rig\.[A-Za-z0-9]+/data$' "data root"
}

t_rig_run() {
	tid "a container of the busybox image runs and is removed"
	run_cmd rig_docker run --rm --network none "$RIG_IMAGE" echo hello
	expect_eq "$RC" 0 "docker run exit status ($ERR)"
	expect_eq "$OUT" hello "container output"
	run_cmd rig_docker run --rm --network none "$RIG_IMAGE" \
	    sh -c 'cat /etc/passwd; exit 3'
	expect_eq "$RC" 3 "exit status from the container"
	expect_eq "$OUT" 'root:x:0:0:root:/:/bin/sh' "cat in the container"
	run_cmd rig_docker ps -aq
	expect_eq "$OUT" "" "containers left"
}
