/*
 * Copyright (c) 2026 The moatd developers
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/*
 * Unit tests for the body policy (policy/body.c): per endpoint and per
 * field, a refused and an allowed case, the legacy and alternative forms,
 * each loosening, bind path cleaning, image references and globs, and
 * the policy's wire form.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "body.h"
#include "json.h"
#include "mbuf.h"

enum pol {
	P_DEF, P_PRIV, P_CAPS, P_DEV, P_HOSTS, P_JOIN, P_BINDS, P_IMAGES,
	P_RUNTIME, P_VDRV, P_SYSCTL, P_REMOTE, P_PLUGINS, P_LOCAL, P_HOSTNET,
	P_CGNS, P_GLOB,
};

static char *caps[] = { "NET_ADMIN", "cap_sys_ptrace" };
static char *devs[] = { "/dev/fuse", "/dev//kvm/" };
static struct body_bind binds[] = {
	{ "/srv/data", 0 }, { "/srv/ro", 1 }, { "/home/u/x y", 0 },
};
static char *images[] = {
	"docker.io/library/alpine:*", "ghcr.io/org/*", "redis", "myorg/app:1.*",
	"quay.io/x/y@sha256:*",
};
static char *runtimes[] = { "runsc" };
static char *vdrvs[] = { "local-persist" };
static char *localdrv[] = { "local" };
static char *sysctls[] = { "net.ipv4.*", "kernel.shm_rmid_forced" };
static char *globs[] = { "ghcr.io/[a-c]x/*", "reg.io:5000/[!z]*:v?",
    "local\\*", "[]]x", "*" };
static char *globsys[] = { "kernel.msg[a-z][a-z][!b]", "fs.mqueue.?" };

static void
policy(enum pol p, struct body_policy *bp)
{
	memset(bp, 0, sizeof(*bp));
	switch (p) {
	case P_DEF:
		break;
	case P_PRIV:
		bp->privileged = 1;
		break;
	case P_CAPS:
		bp->caps = caps;
		bp->ncaps = 2;
		break;
	case P_DEV:
		bp->devices = devs;
		bp->ndevices = 2;
		break;
	case P_HOSTS:
		bp->hosts = BODY_HOST_NETWORK | BODY_HOST_PID | BODY_HOST_IPC |
		    BODY_HOST_UTS | BODY_HOST_USERNS | BODY_HOST_CGROUPNS;
		break;
	case P_JOIN:
		bp->nsjoin = 1;
		break;
	case P_BINDS:
		bp->binds = binds;
		bp->nbinds = 3;
		break;
	case P_IMAGES:
		bp->images = images;
		bp->nimages = 5;
		break;
	case P_RUNTIME:
		bp->runtimes = runtimes;
		bp->nruntimes = 1;
		break;
	case P_VDRV:
		bp->vdrivers = vdrvs;
		bp->nvdrivers = 1;
		break;
	case P_SYSCTL:
		bp->sysctls = sysctls;
		bp->nsysctls = 2;
		break;
	case P_REMOTE:
		bp->remote = 1;
		break;
	case P_PLUGINS:
		bp->plugins = 1;
		break;
	case P_LOCAL:
		bp->vdrivers = localdrv;
		bp->nvdrivers = 1;
		break;
	case P_HOSTNET:
		bp->hosts = BODY_HOST_NETWORK;
		break;
	case P_CGNS:
		bp->hosts = BODY_HOST_CGROUPNS;
		break;
	case P_GLOB:
		bp->images = globs;
		bp->nimages = 4;	/* not "*" */
		bp->sysctls = globsys;
		bp->nsysctls = 2;
		break;
	}
}

struct bcase {
	enum pol	 pol;
	const char	*path;		/* POST */
	const char	*query;
	const char	*body;		/* NULL: none */
	const char	*why;		/* NULL: allowed */
};

#define CR	"/v1.47/containers/create"
#define HC(x)	"{\"Image\":\"alpine\",\"HostConfig\":{" x "}}"
#define TOP(x)	"{\"Image\":\"alpine\"," x "}"
#define SV	"/v1.47/services/create"
#define CS(x)	"{\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"alpine\"," \
		    x "}}}"

static const struct bcase cases[] = {
	/* nothing asked for */
	{ P_DEF, CR, "", "{}", NULL },
	{ P_DEF, CR, "", NULL, NULL },
	{ P_DEF, CR, "", "null", NULL },
	{ P_DEF, CR, "", "[]", "body=[...]" },
	{ P_DEF, CR, "", HC("\"Privileged\":false,\"CapAdd\":null,"
	    "\"Binds\":[\"vol:/data\",\"/anon\"],\"NetworkMode\":\"bridge\","
	    "\"MaskedPaths\":null,\"SecurityOpt\":[\"no-new-privileges\"]"),
	    NULL },
	{ P_DEF, "/containers/create", "", HC("\"Privileged\":false"), NULL },
	/* what docker run sends with no options (CLI 27) */
	{ P_DEF, "/v1.47/containers/create", "", "{\"Hostname\":\"\","
	    "\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,"
	    "\"AttachStdout\":true,\"AttachStderr\":true,\"Tty\":false,"
	    "\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":null,"
	    "\"Cmd\":[\"true\"],\"Image\":\"alpine\",\"Volumes\":{},"
	    "\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,"
	    "\"Labels\":{},\"HostConfig\":{\"Binds\":null,"
	    "\"ContainerIDFile\":\"\",\"LogConfig\":{\"Type\":\"\","
	    "\"Config\":{}},\"NetworkMode\":\"default\",\"PortBindings\":{},"
	    "\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCount\":0},"
	    "\"AutoRemove\":true,\"VolumeDriver\":\"\",\"VolumesFrom\":null,"
	    "\"ConsoleSize\":[0,0],\"CapAdd\":null,\"CapDrop\":null,"
	    "\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],"
	    "\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":null,"
	    "\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null,"
	    "\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":false,"
	    "\"PublishAllPorts\":false,\"ReadonlyRootfs\":false,"
	    "\"SecurityOpt\":null,\"UTSMode\":\"\",\"UsernsMode\":\"\","
	    "\"ShmSize\":0,\"Isolation\":\"\",\"CpuShares\":0,\"Memory\":0,"
	    "\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,"
	    "\"BlkioWeightDevice\":[],\"CpusetCpus\":\"\",\"Devices\":[],"
	    "\"DeviceCgroupRules\":null,\"DeviceRequests\":null,"
	    "\"MemorySwappiness\":null,\"OomKillDisable\":null,"
	    "\"PidsLimit\":null,\"Ulimits\":[],\"MaskedPaths\":null,"
	    "\"ReadonlyPaths\":null},\"NetworkingConfig\":{\"EndpointsConfig\":"
	    "{\"default\":{\"IPAMConfig\":null,\"Links\":null,"
	    "\"Aliases\":null}}}}", NULL },
	/* Privileged */
	{ P_DEF, CR, "", HC("\"Privileged\":true"),
	    "HostConfig.Privileged=true" },
	{ P_DEF, CR, "", TOP("\"Privileged\":true"), "Privileged=true" },
	{ P_DEF, CR, "", HC("\"privileged\":true"),
	    "HostConfig.Privileged=true" },
	{ P_DEF, CR, "", "{\"hostconfig\":{\"PRIVILEGED\":true}}",
	    "HostConfig.Privileged=true" },
	{ P_DEF, CR, "", HC("\"Privileged\":1"), "HostConfig.Privileged=1" },
	{ P_DEF, CR, "", HC("\"Privileged\":\"true\""),
	    "HostConfig.Privileged=true" },
	{ P_DEF, CR, "", HC("\"Privileged\":null"), NULL },
	{ P_PRIV, CR, "", HC("\"Privileged\":true"), NULL },
	{ P_PRIV, CR, "", TOP("\"Privileged\":true"), NULL },
	{ P_DEF, "/v1.24/containers/create", "", "{\"HostConfig\":\"x\"}",
	    "HostConfig=x" },
	/* CapAdd, Capabilities */
	{ P_DEF, CR, "", HC("\"CapAdd\":[\"CHOWN\",\"SYS_ADMIN\"]"),
	    "HostConfig.CapAdd[1]=SYS_ADMIN" },
	{ P_DEF, CR, "", HC("\"CapAdd\":[\"cap_net_raw\",\"Kill\","
	    "\"CAP_AUDIT_WRITE\"]"), NULL },
	{ P_DEF, CR, "", HC("\"CapAdd\":[\"ALL\"]"),
	    "HostConfig.CapAdd[0]=ALL" },
	{ P_DEF, CR, "", HC("\"CapAdd\":[\"cap_sys_module\"]"),
	    "HostConfig.CapAdd[0]=cap_sys_module" },
	{ P_DEF, CR, "", HC("\"CapAdd\":\"SYS_ADMIN\""),
	    "HostConfig.CapAdd=SYS_ADMIN" },
	{ P_DEF, CR, "", HC("\"CapAdd\":[7]"), "HostConfig.CapAdd[0]=7" },
	{ P_DEF, CR, "", TOP("\"CapAdd\":[\"NET_ADMIN\"]"),
	    "CapAdd[0]=NET_ADMIN" },
	{ P_DEF, CR, "", HC("\"Capabilities\":[\"CAP_SYS_ADMIN\"]"),
	    "HostConfig.Capabilities[0]=CAP_SYS_ADMIN" },
	{ P_DEF, CR, "", HC("\"Capabilities\":[\"CAP_CHOWN\"]"), NULL },
	{ P_CAPS, CR, "", HC("\"CapAdd\":[\"net_admin\",\"CAP_SYS_PTRACE\"]"),
	    NULL },
	{ P_CAPS, CR, "", HC("\"CapAdd\":[\"SYS_ADMIN\"]"),
	    "HostConfig.CapAdd[0]=SYS_ADMIN" },
	{ P_CAPS, CR, "", HC("\"CapAdd\":[\"ALL\"]"),
	    "HostConfig.CapAdd[0]=ALL" },
	{ P_DEF, CR, "", HC("\"CapDrop\":[\"ALL\"]"), NULL },
	/* Devices, DeviceRequests, DeviceCgroupRules */
	{ P_DEF, CR, "", HC("\"Devices\":[{\"PathOnHost\":\"/dev/sda\","
	    "\"PathInContainer\":\"/dev/sda\",\"CgroupPermissions\":\"rwm\"}]"),
	    "HostConfig.Devices[0].PathOnHost=/dev/sda" },
	{ P_DEF, CR, "", HC("\"Devices\":[]"), NULL },
	{ P_DEF, CR, "", TOP("\"Devices\":[{\"PathOnHost\":\"/dev/fuse\"}]"),
	    "Devices[0].PathOnHost=/dev/fuse" },
	{ P_DEV, CR, "", HC("\"Devices\":[{\"PathOnHost\":\"/dev//fuse\"},"
	    "{\"PathOnHost\":\"/dev/kvm\"}]"), NULL },
	{ P_DEV, CR, "", HC("\"Devices\":[{\"PathOnHost\":\"/dev/fuse\"},"
	    "{\"PathOnHost\":\"/dev/sda1\"}]"),
	    "HostConfig.Devices[1].PathOnHost=/dev/sda1" },
	{ P_DEV, CR, "", HC("\"Devices\":[{\"PathOnHost\":\"/dev/../dev/fuse\"}]"),
	    "HostConfig.Devices[0].PathOnHost=/dev/../dev/fuse" },
	{ P_DEV, CR, "", HC("\"Devices\":[{\"PathInContainer\":\"/dev/x\"}]"),
	    "HostConfig.Devices[0].PathOnHost=" },
	{ P_DEV, CR, "", HC("\"Devices\":[\"/dev/fuse\"]"),
	    "HostConfig.Devices[0]=/dev/fuse" },
	{ P_DEF, CR, "", HC("\"DeviceRequests\":[{\"Driver\":\"nvidia\","
	    "\"Count\":-1}]"), "HostConfig.DeviceRequests[0]={...}" },
	{ P_DEF, CR, "", HC("\"DeviceRequests\":[]"), NULL },
	{ P_DEF, CR, "", TOP("\"DeviceCgroupRules\":[\"c 8:* rmw\"]"),
	    "DeviceCgroupRules[0]=c 8:* rmw" },
	{ P_DEF, CR, "", HC("\"DeviceCgroupRules\":[\"b 8:0 rwm\"]"),
	    "HostConfig.DeviceCgroupRules[0]=b 8:0 rwm" },
	/* host namespaces and joins */
	{ P_DEF, CR, "", HC("\"NetworkMode\":\"host\""),
	    "HostConfig.NetworkMode=host" },
	{ P_DEF, CR, "", TOP("\"NetworkMode\":\"HOST\""), "NetworkMode=HOST" },
	{ P_DEF, CR, "", HC("\"PidMode\":\"host\""),
	    "HostConfig.PidMode=host" },
	{ P_DEF, CR, "", HC("\"IpcMode\":\"host\""),
	    "HostConfig.IpcMode=host" },
	{ P_DEF, CR, "", HC("\"UTSMode\":\"host\""),
	    "HostConfig.UTSMode=host" },
	{ P_DEF, CR, "", HC("\"UsernsMode\":\"host\""),
	    "HostConfig.UsernsMode=host" },
	{ P_DEF, CR, "", HC("\"CgroupnsMode\":\"host\""),
	    "HostConfig.CgroupnsMode=host" },
	{ P_DEF, CR, "", HC("\"IpcMode\":\"shareable\",\"CgroupnsMode\":"
	    "\"private\",\"PidMode\":\"\""), NULL },
	{ P_HOSTS, CR, "", HC("\"NetworkMode\":\"host\",\"PidMode\":\"host\","
	    "\"IpcMode\":\"host\",\"UTSMode\":\"host\",\"UsernsMode\":\"host\","
	    "\"CgroupnsMode\":\"host\""), NULL },
	{ P_HOSTNET, CR, "", HC("\"NetworkMode\":\"host\",\"PidMode\":"
	    "\"host\""), "HostConfig.PidMode=host" },
	{ P_DEF, CR, "", HC("\"NetworkMode\":\"container:abc\""),
	    "HostConfig.NetworkMode=container:abc" },
	{ P_DEF, CR, "", HC("\"PidMode\":\"container:abc\""),
	    "HostConfig.PidMode=container:abc" },
	{ P_DEF, CR, "", TOP("\"IpcMode\":\"container:abc\""),
	    "IpcMode=container:abc" },
	{ P_HOSTS, CR, "", HC("\"PidMode\":\"container:abc\""),
	    "HostConfig.PidMode=container:abc" },
	{ P_JOIN, CR, "", HC("\"NetworkMode\":\"container:a\",\"PidMode\":"
	    "\"container:a\",\"IpcMode\":\"container:a\",\"Cgroup\":"
	    "\"container:a\",\"VolumesFrom\":[\"a:ro\"]"), NULL },
	{ P_JOIN, CR, "", HC("\"PidMode\":\"host\""),
	    "HostConfig.PidMode=host" },
	{ P_DEF, CR, "", HC("\"Cgroup\":\"container:a\""),
	    "HostConfig.Cgroup=container:a" },
	{ P_DEF, CR, "", HC("\"Cgroup\":\"host\""), "HostConfig.Cgroup=host" },
	{ P_CGNS, CR, "", HC("\"Cgroup\":\"host\""), NULL },
	{ P_JOIN, CR, "", HC("\"Cgroup\":\"weird\""),
	    "HostConfig.Cgroup=weird" },
	{ P_DEF, CR, "", "{\"NetworkingConfig\":{\"EndpointsConfig\":"
	    "{\"host\":{}}}}", "NetworkingConfig.EndpointsConfig=host" },
	{ P_DEF, CR, "", "{\"NetworkingConfig\":{\"EndpointsConfig\":"
	    "{\"mynet\":{\"Aliases\":[\"a\"]}}}}", NULL },
	{ P_HOSTNET, CR, "", "{\"NetworkingConfig\":{\"EndpointsConfig\":"
	    "{\"host\":{}}}}", NULL },
	{ P_DEF, CR, "", "{\"NetworkingConfig\":{\"EndpointsConfig\":[]}}",
	    "NetworkingConfig.EndpointsConfig=[...]" },
	/* SecurityOpt */
	{ P_DEF, CR, "", HC("\"SecurityOpt\":[\"no-new-privileges:true\","
	    "\"no-new-privileges=true\",\"no-new-privileges=1\","
	    "\"label=level:s0:c100,c200\",\"label:user:u\",\"label=role:r\"]"),
	    NULL },
	{ P_DEF, CR, "", HC("\"SecurityOpt\":[\"seccomp=unconfined\"]"),
	    "HostConfig.SecurityOpt[0]=seccomp=unconfined" },
	{ P_DEF, CR, "", HC("\"SecurityOpt\":[\"seccomp:unconfined\"]"),
	    "HostConfig.SecurityOpt[0]=seccomp:unconfined" },
	{ P_DEF, CR, "", HC("\"SecurityOpt\":[\"seccomp={}\"]"),
	    "HostConfig.SecurityOpt[0]=seccomp={}" },
	{ P_DEF, CR, "", HC("\"SecurityOpt\":[\"apparmor=unconfined\"]"),
	    "HostConfig.SecurityOpt[0]=apparmor=unconfined" },
	{ P_DEF, CR, "", HC("\"SecurityOpt\":[\"label=disable\"]"),
	    "HostConfig.SecurityOpt[0]=label=disable" },
	{ P_DEF, CR, "", HC("\"SecurityOpt\":[\"label:disable\"]"),
	    "HostConfig.SecurityOpt[0]=label:disable" },
	{ P_DEF, CR, "", HC("\"SecurityOpt\":[\"disable\"]"),
	    "HostConfig.SecurityOpt[0]=disable" },
	{ P_DEF, CR, "", HC("\"SecurityOpt\":[\"label=type:spc_t\"]"),
	    "HostConfig.SecurityOpt[0]=label=type:spc_t" },
	{ P_DEF, CR, "", TOP("\"SecurityOpt\":[\"no-new-privileges=false\"]"),
	    "SecurityOpt[0]=no-new-privileges=false" },
	{ P_DEF, CR, "", HC("\"SecurityOpt\":[\"writable-cgroups=true\"]"),
	    "HostConfig.SecurityOpt[0]=writable-cgroups=true" },
	{ P_PRIV, CR, "", HC("\"SecurityOpt\":[\"seccomp=unconfined\"]"),
	    "HostConfig.SecurityOpt[0]=seccomp=unconfined" },
	/* Sysctls */
	{ P_DEF, CR, "", HC("\"Sysctls\":{\"net.ipv4.ip_forward\":\"1\"}"),
	    "HostConfig.Sysctls.net.ipv4.ip_forward=1" },
	{ P_DEF, CR, "", HC("\"Sysctls\":{}"), NULL },
	{ P_SYSCTL, CR, "", HC("\"Sysctls\":{\"net.ipv4.ip_forward\":\"1\","
	    "\"net/ipv4/conf/eth0.1/forwarding\":\"1\","
	    "\"kernel.shm_rmid_forced\":\"1\"}"), NULL },
	{ P_SYSCTL, CR, "", TOP("\"Sysctls\":{\"kernel.core_pattern\":\"|x\"}"),
	    "Sysctls.kernel.core_pattern=|x" },
	{ P_SYSCTL, CR, "", HC("\"Sysctls\":{\"net.ipv4/../../kernel/x\":"
	    "\"1\"}"), "HostConfig.Sysctls.net.ipv4/../../kernel/x=1" },
	{ P_SYSCTL, CR, "", HC("\"Sysctls\":[\"net.ipv4.ip_forward=1\"]"),
	    "HostConfig.Sysctls=[...]" },
	/* Binds */
	{ P_DEF, CR, "", HC("\"Binds\":[\"/:/host\"]"),
	    "HostConfig.Binds[0]=/:/host" },
	{ P_DEF, CR, "", HC("\"Binds\":[\"//:/host\"]"),
	    "HostConfig.Binds[0]=//:/host" },
	{ P_DEF, CR, "", HC("\"Binds\":[\"/./:/host:ro\"]"),
	    "HostConfig.Binds[0]=/./:/host:ro" },
	{ P_DEF, CR, "", TOP("\"Binds\":[\"/etc/:/x\"]"),
	    "Binds[0]=/etc/:/x" },
	{ P_DEF, CR, "", HC("\"Binds\":\"/:/host\""),
	    "HostConfig.Binds=/:/host" },
	{ P_DEF, CR, "", HC("\"Binds\":[\"data:/data:ro\",\"/tmpvol\"]"),
	    NULL },
	{ P_BINDS, CR, "", HC("\"Binds\":[\"/srv/data:/d\","
	    "\"/srv/data/sub//dir/:/e:rw\",\"/srv/ro:/r:ro\","
	    "\"/srv/ro/x:/r2:ro,rshared\",\"/home/u/x y/z:/z\"]"), NULL },
	{ P_BINDS, CR, "", HC("\"Binds\":[\"/srv/ro:/r\"]"),
	    "HostConfig.Binds[0]=/srv/ro:/r" },
	{ P_BINDS, CR, "", HC("\"Binds\":[\"/srv/ro:/r:rw\"]"),
	    "HostConfig.Binds[0]=/srv/ro:/r:rw" },
	{ P_BINDS, CR, "", HC("\"Binds\":[\"/srv/ro:/r:ro,rw\"]"),
	    "HostConfig.Binds[0]=/srv/ro:/r:ro,rw" },
	{ P_BINDS, CR, "", HC("\"Binds\":[\"/srv/database:/d\"]"),
	    "HostConfig.Binds[0]=/srv/database:/d" },
	{ P_BINDS, CR, "", HC("\"Binds\":[\"/srv/data/../../etc:/d\"]"),
	    "HostConfig.Binds[0]=/srv/data/../../etc:/d" },
	{ P_BINDS, CR, "", HC("\"Binds\":[\"/srv:/d\"]"),
	    "HostConfig.Binds[0]=/srv:/d" },
	{ P_BINDS, CR, "", HC("\"Binds\":[\"/srv/data\\u0000/x:/d\"]"),
	    "HostConfig.Binds[0]=/srv/data\\x00/x:/d" },
	/* Mounts */
	{ P_DEF, CR, "", HC("\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/\","
	    "\"Target\":\"/host\"}]"), "HostConfig.Mounts[0].Source=/" },
	{ P_DEF, CR, "", TOP("\"Mounts\":[{\"Type\":\"bind\",\"Source\":"
	    "\"/var/run/docker.sock\",\"Target\":\"/s\"}]"),
	    "Mounts[0].Source=/var/run/docker.sock" },
	{ P_DEF, CR, "", HC("\"Mounts\":[{\"Type\":\"tmpfs\",\"Target\":\"/t\"},"
	    "{\"Type\":\"volume\",\"Source\":\"v\",\"Target\":\"/v\"},"
	    "{\"Type\":\"image\",\"Source\":\"alpine\",\"Target\":\"/i\"},"
	    "{\"Type\":\"npipe\"},{\"Type\":\"cluster\"}]"), NULL },
	{ P_DEF, CR, "", HC("\"Mounts\":[{\"Type\":\"Bind\",\"Source\":\"/\"}]"),
	    "HostConfig.Mounts[0].Type=Bind" },
	{ P_DEF, CR, "", HC("\"Mounts\":[{\"Source\":\"/\"}]"),
	    "HostConfig.Mounts[0].Type=" },
	{ P_DEF, CR, "", HC("\"Mounts\":[{\"Type\":\"overlay\"}]"),
	    "HostConfig.Mounts[0].Type=overlay" },
	{ P_DEF, CR, "", HC("\"Mounts\":[\"/:/x\"]"),
	    "HostConfig.Mounts[0]=/:/x" },
	{ P_DEF, CR, "", HC("\"Mounts\":[{\"type\":\"bind\",\"source\":"
	    "\"/etc\"}]"), "HostConfig.Mounts[0].Source=/etc" },
	{ P_BINDS, CR, "", HC("\"Mounts\":[{\"Type\":\"bind\",\"Source\":"
	    "\"/srv/data/x\"},{\"Type\":\"bind\",\"Source\":\"/srv/ro\","
	    "\"ReadOnly\":true}]"), NULL },
	{ P_BINDS, CR, "", HC("\"Mounts\":[{\"Type\":\"bind\",\"Source\":"
	    "\"/srv/ro\"}]"), "HostConfig.Mounts[0].Source=/srv/ro" },
	{ P_BINDS, CR, "", HC("\"Mounts\":[{\"Type\":\"bind\",\"Source\":"
	    "\"/srv/ro\",\"ReadOnly\":true,\"BindOptions\":"
	    "{\"ReadOnlyNonRecursive\":true}}]"),
	    "HostConfig.Mounts[0].Source=/srv/ro" },
	{ P_DEF, CR, "", HC("\"Mounts\":[{\"Type\":\"volume\",\"Source\":\"v\","
	    "\"VolumeOptions\":{\"DriverConfig\":{\"Name\":\"local\","
	    "\"Options\":{\"type\":\"none\",\"o\":\"bind\",\"device\":\"/\"}}}}]"),
	    "HostConfig.Mounts[0].VolumeOptions.DriverConfig.Options.type=none" },
	{ P_DEF, CR, "", HC("\"Mounts\":[{\"Type\":\"volume\",\"Source\":\"v\","
	    "\"VolumeOptions\":{\"DriverConfig\":{\"Name\":\"rexray\"}}}]"),
	    "HostConfig.Mounts[0].VolumeOptions.DriverConfig.Name=rexray" },
	{ P_VDRV, CR, "", HC("\"Mounts\":[{\"Type\":\"volume\",\"Source\":\"v\","
	    "\"VolumeOptions\":{\"DriverConfig\":{\"Name\":\"local-persist\","
	    "\"Options\":{\"mountpoint\":\"/data\"}}}}]"), NULL },
	{ P_DEF, CR, "", HC("\"Mounts\":[{\"Type\":\"volume\",\"Source\":\"v\","
	    "\"VolumeOptions\":{\"DriverConfig\":{\"Options\":{\"type\":"
	    "\"tmpfs\",\"device\":\"tmpfs\",\"o\":\"size=1m\"}}}}]"), NULL },
	{ P_DEF, CR, "", HC("\"Mounts\":[{\"Type\":\"volume\",\"VolumeOptions\":"
	    "\"x\"}]"), "HostConfig.Mounts[0].VolumeOptions=x" },
	/* VolumeDriver, VolumesFrom, Runtime, Masked/ReadonlyPaths */
	{ P_DEF, CR, "", HC("\"VolumeDriver\":\"rexray\""),
	    "HostConfig.VolumeDriver=rexray" },
	{ P_DEF, CR, "", TOP("\"VolumeDriver\":\"convoy\""),
	    "VolumeDriver=convoy" },
	{ P_DEF, CR, "", HC("\"VolumeDriver\":\"local\""), NULL },
	{ P_VDRV, CR, "", HC("\"VolumeDriver\":\"local-persist\""), NULL },
	{ P_DEF, CR, "", HC("\"VolumesFrom\":[\"other\"]"),
	    "HostConfig.VolumesFrom[0]=other" },
	{ P_DEF, CR, "", HC("\"VolumesFrom\":[]"), NULL },
	{ P_DEF, CR, "", HC("\"Runtime\":\"runsc\""),
	    "HostConfig.Runtime=runsc" },
	{ P_DEF, CR, "", HC("\"Runtime\":\"runc\""), NULL },
	{ P_RUNTIME, CR, "", HC("\"Runtime\":\"runsc\""), NULL },
	{ P_RUNTIME, CR, "", TOP("\"Runtime\":\"kata\""), "Runtime=kata" },
	{ P_DEF, CR, "", HC("\"MaskedPaths\":[]"),
	    "HostConfig.MaskedPaths=[...]" },
	{ P_DEF, CR, "", HC("\"ReadonlyPaths\":[]"),
	    "HostConfig.ReadonlyPaths=[...]" },
	{ P_DEF, CR, "", TOP("\"MaskedPaths\":[\"/proc/kcore\"]"),
	    "MaskedPaths=[...]" },
	/* Config.Volumes */
	{ P_DEF, CR, "", TOP("\"Volumes\":{\"/:/host\":{}}"),
	    "Volumes=/:/host" },
	{ P_DEF, CR, "", TOP("\"Volumes\":{\"/data\":{}}"), NULL },
	/* Image */
	{ P_DEF, CR, "", "{\"Image\":\"evil/anything\"}", NULL },
	{ P_IMAGES, CR, "", "{\"Image\":\"alpine\"}", NULL },
	{ P_IMAGES, CR, "", "{\"Image\":\"alpine:3.20\"}", NULL },
	{ P_IMAGES, CR, "", "{\"Image\":\"docker.io/library/alpine\"}", NULL },
	{ P_IMAGES, CR, "", "{\"Image\":\"index.docker.io/library/alpine\"}",
	    NULL },
	{ P_IMAGES, CR, "", "{\"Image\":\"library/alpine:edge\"}", NULL },
	{ P_IMAGES, CR, "", "{\"Image\":\"ghcr.io/org/tool:1\"}", NULL },
	{ P_IMAGES, CR, "", "{\"Image\":\"ghcr.io/org/a/b@sha256:"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}",
	    NULL },
	{ P_IMAGES, CR, "", "{\"Image\":\"redis:7\"}", NULL },
	{ P_IMAGES, CR, "", "{\"Image\":\"myorg/app:1.2\"}", NULL },
	{ P_IMAGES, CR, "", "{\"Image\":\"myorg/app:2.0\"}",
	    "Image=myorg/app:2.0" },
	{ P_IMAGES, CR, "", "{\"Image\":\"quay.io/x/y@sha256:"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}",
	    NULL },
	{ P_IMAGES, CR, "", "{\"Image\":\"quay.io/x/y:latest\"}",
	    "Image=quay.io/x/y:latest" },
	{ P_IMAGES, CR, "", "{\"Image\":\"ubuntu\"}", "Image=ubuntu" },
	{ P_IMAGES, CR, "", "{\"Image\":\"evil.io/library/alpine\"}",
	    "Image=evil.io/library/alpine" },
	{ P_IMAGES, CR, "", "{\"Image\":\"ghcr.io/orgx/tool\"}",
	    "Image=ghcr.io/orgx/tool" },
	{ P_IMAGES, CR, "", "{\"Image\":\"abc123\"}", "Image=abc123" },
	{ P_IMAGES, CR, "", "{\"Image\":\"sha256:0123456789abcdef0123456789"
	    "abcdef0123456789abcdef0123456789abcdef\"}",
	    "Image=sha256:0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdef" },
	{ P_IMAGES, CR, "", "{\"Image\":\"Alpine\"}", "Image=Alpine" },
	{ P_IMAGES, CR, "", "{\"Image\":7}", "Image=7" },
	{ P_IMAGES, CR, "", "{}", NULL },
	{ P_IMAGES, CR, "", HC("\"Mounts\":[{\"Type\":\"image\",\"Source\":"
	    "\"evil\"}]"), "HostConfig.Mounts[0].Source=evil" },
	/* globs */
	{ P_GLOB, CR, "", "{\"Image\":\"ghcr.io/bx/t\"}", NULL },
	{ P_GLOB, CR, "", "{\"Image\":\"ghcr.io/dx/t\"}",
	    "Image=ghcr.io/dx/t" },
	{ P_GLOB, CR, "", "{\"Image\":\"reg.io:5000/a/b:v1\"}", NULL },
	{ P_GLOB, CR, "", "{\"Image\":\"reg.io:5000/z/b:v1\"}",
	    "Image=reg.io:5000/z/b:v1" },
	{ P_GLOB, CR, "", "{\"Image\":\"reg.io:5000/a/b:v10\"}",
	    "Image=reg.io:5000/a/b:v10" },
	{ P_GLOB, CR, "", "{\"Image\":\"localx\"}", "Image=localx" },
	{ P_GLOB, CR, "", "{\"HostConfig\":{\"Sysctls\":{\"kernel.msgmax\":"
	    "\"1\",\"fs.mqueue.x\":\"1\"}}}", NULL },
	{ P_GLOB, CR, "", HC("\"Sysctls\":{\"kernel.msgmnb\":\"1\"}"),
	    "HostConfig.Sysctls.kernel.msgmnb=1" },
	{ P_GLOB, CR, "", HC("\"Sysctls\":{\"fs.mqueue.xy\":\"1\"}"),
	    "HostConfig.Sysctls.fs.mqueue.xy=1" },
	/* containers/{id}/update */
	{ P_DEF, "/v1.47/containers/abc/update", "", "{\"Devices\":"
	    "[{\"PathOnHost\":\"/dev/sda\"}]}", "Devices[0].PathOnHost=/dev/sda" },
	{ P_DEF, "/containers/abc/update", "", "{\"DeviceRequests\":[{}]}",
	    "DeviceRequests[0]={...}" },
	{ P_DEF, "/containers/abc/update", "", "{\"DeviceCgroupRules\":"
	    "[\"a *:* rwm\"]}", "DeviceCgroupRules[0]=a *:* rwm" },
	{ P_DEF, "/containers/abc/update", "", "{\"Memory\":1048576,"
	    "\"RestartPolicy\":{\"Name\":\"always\"}}", NULL },
	/* exec */
	{ P_DEF, "/v1.47/containers/abc/exec", "", "{\"Cmd\":[\"sh\"],"
	    "\"Privileged\":true}", "Privileged=true" },
	{ P_DEF, "/containers/abc/exec", "", "{\"Cmd\":[\"sh\"],"
	    "\"User\":\"root\"}", NULL },
	{ P_PRIV, "/containers/abc/exec", "", "{\"Privileged\":true}", NULL },
	{ P_DEF, "/v1.47/exec/abc/start", "", "{\"Detach\":false,"
	    "\"Privileged\":true}", NULL },
	/* services */
	{ P_DEF, SV, "", CS("\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/\","
	    "\"Target\":\"/h\"}]"),
	    "TaskTemplate.ContainerSpec.Mounts[0].Source=/" },
	{ P_DEF, SV, "", CS("\"Mounts\":[{\"Type\":\"volume\",\"Source\":"
	    "\"v\",\"Target\":\"/v\"}]"), NULL },
	{ P_DEF, "/v1.47/services/abc/update", "", CS("\"CapabilityAdd\":"
	    "[\"CAP_SYS_ADMIN\"]"),
	    "TaskTemplate.ContainerSpec.CapabilityAdd[0]=CAP_SYS_ADMIN" },
	{ P_CAPS, "/services/abc/update", "", CS("\"CapabilityAdd\":"
	    "[\"CAP_NET_ADMIN\"]"), NULL },
	{ P_DEF, SV, "", CS("\"Sysctls\":{\"kernel.x\":\"1\"}"),
	    "TaskTemplate.ContainerSpec.Sysctls.kernel.x=1" },
	{ P_DEF, SV, "", CS("\"Privileges\":{\"SELinuxContext\":"
	    "{\"Disable\":true}}"),
	    "TaskTemplate.ContainerSpec.Privileges.SELinuxContext.Disable=true" },
	{ P_DEF, SV, "", CS("\"Privileges\":{\"SELinuxContext\":"
	    "{\"Type\":\"spc_t\"}}"),
	    "TaskTemplate.ContainerSpec.Privileges.SELinuxContext.Type=spc_t" },
	{ P_DEF, SV, "", CS("\"Privileges\":{\"Seccomp\":{\"Mode\":"
	    "\"unconfined\"}}"),
	    "TaskTemplate.ContainerSpec.Privileges.Seccomp.Mode=unconfined" },
	{ P_DEF, SV, "", CS("\"Privileges\":{\"Seccomp\":{\"Mode\":"
	    "\"custom\",\"Profile\":\"e30=\"}}"),
	    "TaskTemplate.ContainerSpec.Privileges.Seccomp.Mode=custom" },
	{ P_DEF, SV, "", CS("\"Privileges\":{\"AppArmor\":{\"Mode\":"
	    "\"disabled\"}}"),
	    "TaskTemplate.ContainerSpec.Privileges.AppArmor.Mode=disabled" },
	{ P_DEF, SV, "", CS("\"Privileges\":{\"CredentialSpec\":"
	    "{\"File\":\"x\"}}"),
	    "TaskTemplate.ContainerSpec.Privileges.CredentialSpec={...}" },
	{ P_DEF, SV, "", CS("\"Privileges\":{\"NoNewPrivileges\":false,"
	    "\"Seccomp\":{\"Mode\":\"default\"},\"AppArmor\":{\"Mode\":"
	    "\"default\"},\"SELinuxContext\":{\"Level\":\"s0\"}}"), NULL },
	{ P_DEF, SV, "", "{\"TaskTemplate\":{\"Networks\":[{\"Target\":"
	    "\"host\"}]}}", "TaskTemplate.Networks[0].Target=host" },
	{ P_DEF, SV, "", "{\"Networks\":[{\"Target\":\"host\"}]}",
	    "Networks[0].Target=host" },
	{ P_DEF, SV, "", "{\"TaskTemplate\":{\"Networks\":[{\"Target\":"
	    "\"overlay1\"}]}}", NULL },
	{ P_HOSTNET, SV, "", "{\"TaskTemplate\":{\"Networks\":[{\"Target\":"
	    "\"host\"}]}}", NULL },
	{ P_DEF, SV, "", "{\"TaskTemplate\":{\"PluginSpec\":{\"Name\":\"p\","
	    "\"Privileges\":[{\"Name\":\"network\",\"Value\":[\"host\"]}]}}}",
	    "TaskTemplate.PluginSpec.Privileges[0]={...}" },
	{ P_PLUGINS, SV, "", "{\"TaskTemplate\":{\"PluginSpec\":{\"Name\":"
	    "\"p\",\"Privileges\":[{\"Name\":\"network\"}]}}}", NULL },
	{ P_IMAGES, SV, "", CS("\"Mounts\":[]"), NULL },
	{ P_IMAGES, SV, "", "{\"TaskTemplate\":{\"ContainerSpec\":"
	    "{\"Image\":\"nginx:latest@sha256:0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef\"}}}",
	    "TaskTemplate.ContainerSpec.Image=nginx:latest@sha256:0123456789"
	    "abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
	/* plugins */
	{ P_DEF, "/v1.47/plugins/pull", "remote=vieux/sshfs", "[{\"Name\":"
	    "\"mount\",\"Value\":[\"/var/lib/docker/plugins/\"]}]",
	    "body[0]={...}" },
	{ P_DEF, "/plugins/pull", "remote=x", "[]", NULL },
	{ P_DEF, "/plugins/pull", "", "{}", "body={...}" },
	{ P_PLUGINS, "/plugins/pull", "", "[{\"Name\":\"network\","
	    "\"Value\":[\"host\"]}]", NULL },
	{ P_DEF, "/v1.41/plugins/vieux/sshfs:latest/upgrade", "", "[{\"Name\":"
	    "\"device\",\"Value\":[\"/dev/fuse\"]}]", "body[0]={...}" },
	/* volumes */
	{ P_DEF, "/v1.47/volumes/create", "", "{\"Name\":\"v\",\"Driver\":"
	    "\"local\",\"DriverOpts\":{\"type\":\"none\",\"o\":\"bind\","
	    "\"device\":\"/etc\"}}", "DriverOpts.type=none" },
	{ P_DEF, "/volumes/create", "", "{\"DriverOpts\":{\"o\":\"rbind\","
	    "\"type\":\"tmpfs\"}}", "DriverOpts.o=rbind" },
	{ P_DEF, "/volumes/create", "", "{\"DriverOpts\":{\"type\":\"ext4\","
	    "\"device\":\"/dev/sda1\"}}", "DriverOpts.type=ext4" },
	{ P_DEF, "/volumes/create", "", "{\"DriverOpts\":{\"device\":"
	    "\"/dev/sda1\"}}", "DriverOpts.device=/dev/sda1" },
	{ P_DEF, "/volumes/create", "", "{\"DriverOpts\":{\"o\":\"addr=1.2.3.4\""
	    "}}", "DriverOpts.o=addr=1.2.3.4" },
	{ P_DEF, "/volumes/create", "", "{\"DriverOpts\":{\"Type\":\"tmpfs\"}}",
	    "DriverOpts.Type=tmpfs" },
	{ P_DEF, "/volumes/create", "", "{\"DriverOpts\":{\"type\":\"tmpfs\","
	    "\"device\":\"tmpfs\",\"o\":\"size=100m,uid=1000\"}}", NULL },
	{ P_DEF, "/volumes/create", "", "{\"Name\":\"v\",\"DriverOpts\":{}}",
	    NULL },
	{ P_DEF, "/volumes/create", "", "{\"Name\":\"v\",\"Driver\":"
	    "\"local-persist\"}", "Driver=local-persist" },
	{ P_VDRV, "/volumes/create", "", "{\"Name\":\"v\",\"Driver\":"
	    "\"local-persist\",\"DriverOpts\":{\"mountpoint\":\"/x\"}}", NULL },
	{ P_LOCAL, "/volumes/create", "", "{\"DriverOpts\":{\"type\":\"nfs\","
	    "\"o\":\"addr=1.2.3.4\",\"device\":\":/export\"}}", NULL },
	{ P_DEF, "/volumes/create", "", "{\"Driver\":5}", "Driver=5" },
	/* build */
	{ P_DEF, "/v1.47/build", "t=x&networkmode=host", NULL,
	    "query networkmode=host" },
	{ P_DEF, "/build", "networkmode=bridge&networkmode=host", NULL,
	    "query networkmode=host" },
	{ P_DEF, "/build", "networkmode=%68ost", NULL,
	    "query networkmode=host" },
	{ P_DEF, "/build", "networkmode=container:abc", NULL,
	    "query networkmode=container:abc" },
	{ P_DEF, "/build", "networkmode=default&extrahosts=a:1.2.3.4&t=x", NULL,
	    NULL },
	{ P_HOSTNET, "/build", "networkmode=host", NULL, NULL },
	{ P_DEF, "/build", "remote=https://evil/ctx.tar", NULL,
	    "query remote=https://evil/ctx.tar" },
	{ P_DEF, "/build", "remote=client-session&session=abc", NULL, NULL },
	{ P_REMOTE, "/build", "remote=https://x/ctx.tar", NULL, NULL },
	{ P_DEF, "/build", "securityopt=seccomp%3Dunconfined", NULL,
	    "query securityopt=seccomp=unconfined" },
	{ P_DEF, "/build", "t=a;networkmode=host", NULL,
	    "query=t=a;networkmode=host" },
	{ P_DEF, "/build", "networkmode=%zz", NULL, "query=networkmode=%zz" },
	{ P_DEF, "/build", "net%workmode=x", NULL, "query=net%workmode=x" },
	{ P_DEF, "/build", "", NULL, NULL },
	/* images/create */
	{ P_DEF, "/v1.47/images/create", "fromSrc=http://169.254.169.254/x",
	    NULL, "query fromSrc=http://169.254.169.254/x" },
	{ P_DEF, "/images/create", "fromSrc=-&repo=x", NULL, NULL },
	{ P_REMOTE, "/images/create", "fromSrc=http://x/y.tar", NULL, NULL },
	{ P_IMAGES, "/images/create", "fromSrc=-&repo=alpine", NULL,
	    "query fromSrc=-" },
	{ P_DEF, "/images/create", "fromImage=anything&tag=1", NULL, NULL },
	{ P_IMAGES, "/images/create", "fromImage=alpine&tag=3.20", NULL, NULL },
	{ P_IMAGES, "/images/create", "fromImage=docker.io%2Flibrary%2Falpine"
	    "&tag=latest", NULL, NULL },
	{ P_IMAGES, "/images/create", "fromImage=ubuntu&tag=latest", NULL,
	    "query fromImage=ubuntu:latest" },
	{ P_IMAGES, "/images/create", "fromImage=alpine", NULL,
	    "query fromImage=alpine" },
	{ P_IMAGES, "/images/create", "fromImage=alpine:", NULL,
	    "query fromImage=alpine" },
	{ P_IMAGES, "/images/create", "fromImage=alpine:3", NULL, NULL },
	{ P_IMAGES, "/images/create", "fromImage=myorg/app:1.0&tag=2.0", NULL,
	    "query fromImage=myorg/app:2.0" },
	{ P_IMAGES, "/images/create", "fromImage=quay.io/x/y&tag=sha256:"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    NULL, NULL },
	{ P_IMAGES, "/images/create", "fromImage=alpine&tag=3&fromImage=evil",
	    NULL, "query fromImage=evil:3" },
	/* images/load */
	{ P_DEF, "/v1.47/images/load", "quiet=1", NULL, NULL },
	{ P_IMAGES, "/images/load", "", NULL, "images/load while an image "
	    "allow-list is set (the image references are inside the archive)" },
	/* other endpoints and methods: nothing checked */
	{ P_DEF, "/v1.47/containers/abc/start", "", HC("\"Privileged\":true"),
	    NULL },
	{ P_DEF, "/v1.47/images/alpine/push", "", NULL, NULL },
};

static struct json_doc *
parse(const char *body)
{
	struct json_doc	*d;
	const char	*why;
	size_t		 off;

	d = json_parse(body, strlen(body), NULL, &why, &off);
	if (d == NULL)
		ck_abort_msg("bad test JSON: %s at %zu: %s", why, off, body);
	return d;
}

START_TEST(test_body_table)
{
	const struct bcase	*t = &cases[_i];
	struct body_policy	 bp;
	struct json_doc		*d = NULL;
	char			 why[512];
	int			 r;

	policy(t->pol, &bp);
	if (t->body != NULL)
		d = parse(t->body);
	memset(why, 'Z', sizeof(why));
	r = body_check(&bp, "POST", t->path, t->query,
	    d != NULL ? json_root(d) : NULL, NULL, NULL, why, sizeof(why));
	if (t->why == NULL) {
		ck_assert_msg(r == 0, "case %d %s %s: refused: %s", _i,
		    t->path, t->body ? t->body : t->query, why);
		ck_assert_str_eq(why, "");
	} else {
		ck_assert_msg(r == -1, "case %d %s %s: allowed", _i, t->path,
		    t->body ? t->body : t->query);
		ck_assert_str_eq(why, t->why);
	}
	json_free(d);
}
END_TEST

START_TEST(test_body_endpoint)
{
	ck_assert_int_eq(body_endpoint("POST", "/containers/create"),
	    BODY_JSON);
	ck_assert_int_eq(body_endpoint("POST", "/v1.47/containers/create"),
	    BODY_JSON);
	ck_assert_int_eq(body_endpoint("POST", "/v1/containers/create"),
	    BODY_JSON);
	ck_assert_int_eq(body_endpoint("POST", "/v1.47/containers/create/"),
	    BODY_JSON);
	ck_assert_int_eq(body_endpoint("GET", "/containers/create"),
	    BODY_NONE);
	ck_assert_int_eq(body_endpoint("PUT", "/containers/create"),
	    BODY_NONE);
	ck_assert_int_eq(body_endpoint("POST", "/vx/containers/create"),
	    BODY_NONE);
	ck_assert_int_eq(body_endpoint("POST", "/containers/x/update"),
	    BODY_JSON);
	ck_assert_int_eq(body_endpoint("POST", "/containers/x/exec"),
	    BODY_JSON);
	ck_assert_int_eq(body_endpoint("POST", "/exec/x/start"), BODY_JSON);
	ck_assert_int_eq(body_endpoint("POST", "/exec/x/resize"), BODY_NONE);
	ck_assert_int_eq(body_endpoint("POST", "/services/create"), BODY_JSON);
	ck_assert_int_eq(body_endpoint("POST", "/services/x/update"),
	    BODY_JSON);
	ck_assert_int_eq(body_endpoint("POST", "/plugins/pull"), BODY_JSON);
	ck_assert_int_eq(body_endpoint("POST", "/plugins/a/b:c/upgrade"),
	    BODY_JSON);
	ck_assert_int_eq(body_endpoint("POST", "/plugins/a/enable"),
	    BODY_NONE);
	ck_assert_int_eq(body_endpoint("POST", "/volumes/create"), BODY_JSON);
	ck_assert_int_eq(body_endpoint("POST", "/build"), BODY_QUERY);
	ck_assert_int_eq(body_endpoint("POST", "/v1.51/build"), BODY_QUERY);
	ck_assert_int_eq(body_endpoint("POST", "/images/create"), BODY_QUERY);
	ck_assert_int_eq(body_endpoint("POST", "/images/load"), BODY_QUERY);
	ck_assert_int_eq(body_endpoint("POST", "/containers/x/start"),
	    BODY_NONE);
	ck_assert_int_eq(body_endpoint("POST", "/_ping"), BODY_NONE);
	ck_assert_int_eq(body_endpoint("POST", "/"), BODY_NONE);
	ck_assert_int_eq(body_endpoint("POST", ""), BODY_NONE);
}
END_TEST

START_TEST(test_body_content_type)
{
	char		 why[128];
	const char	*ct;

	ct = "application/x-www-form-urlencoded";
	ck_assert_int_eq(body_content_type("POST", "/v1.47/build", ct,
	    strlen(ct), why, sizeof(why)), -1);
	ck_assert_str_eq(why, "Content-Type=application/x-www-form-urlencoded");
	ct = " Application/X-WWW-Form-Urlencoded ; charset=utf-8";
	ck_assert_int_eq(body_content_type("POST", "/images/create", ct,
	    strlen(ct), why, sizeof(why)), -1);
	ct = "multipart/form-data; boundary=x";
	ck_assert_int_eq(body_content_type("POST", "/build", ct, strlen(ct),
	    why, sizeof(why)), -1);
	ct = "MULTIPART/mixed";
	ck_assert_int_eq(body_content_type("POST", "/images/load", ct,
	    strlen(ct), why, sizeof(why)), -1);
	ct = "application/x-tar";
	ck_assert_int_eq(body_content_type("POST", "/build", ct, strlen(ct),
	    why, sizeof(why)), 0);
	ck_assert_str_eq(why, "");
	ct = "text/plain";
	ck_assert_int_eq(body_content_type("POST", "/images/create", ct,
	    strlen(ct), why, sizeof(why)), 0);
	ck_assert_int_eq(body_content_type("POST", "/build", NULL, 0, why,
	    sizeof(why)), 0);
	/* only the query endpoints: JSON ones are read as JSON by Docker */
	ct = "application/x-www-form-urlencoded";
	ck_assert_int_eq(body_content_type("POST", "/containers/create", ct,
	    strlen(ct), why, sizeof(why)), 0);
	ck_assert_int_eq(body_content_type("GET", "/build", ct, strlen(ct),
	    why, sizeof(why)), 0);
}
END_TEST

static const struct {
	const char	*in;
	const char	*out;		/* NULL: refused */
} cleans[] = {
	{ "/", "/" }, { "//", "/" }, { "/./", "/" }, { "/.", "/" },
	{ "///.//", "/" }, { "/etc/", "/etc" }, { "//etc//passwd", "/etc/passwd" },
	{ "/etc/./x/.", "/etc/x" }, { "/a b/c", "/a b/c" },
	{ "/...", "/..." }, { "/.x/..y", "/.x/..y" },
	{ "/..", NULL }, { "/a/../b", NULL }, { "/a/..", NULL },
	{ "a/b", NULL }, { "", NULL }, { "./a", NULL },
};

START_TEST(test_body_path_clean)
{
	char	 out[64];
	int	 r;

	r = body_path_clean(cleans[_i].in, strlen(cleans[_i].in), out,
	    sizeof(out));
	if (cleans[_i].out == NULL)
		ck_assert_msg(r == -1, "%s: cleaned to %s", cleans[_i].in, out);
	else {
		ck_assert_msg(r == 0, "%s: refused", cleans[_i].in);
		ck_assert_str_eq(out, cleans[_i].out);
	}
}
END_TEST

START_TEST(test_body_path_clean_edges)
{
	char	 out[8];

	ck_assert_int_eq(body_path_clean("/a\0b", 4, out, sizeof(out)), -1);
	ck_assert_int_eq(body_path_clean("/abcdef", 7, out, sizeof(out)), 0);
	ck_assert_int_eq(body_path_clean("/abcdefg", 8, out, sizeof(out)), -1);
	ck_assert_int_eq(body_path_clean("/a//b/", 3, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/a");
	ck_assert_int_eq(body_path_clean("/", 1, out, 1), -1);
}
END_TEST

/* The symlink callback: called with the cleaned path, its no refuses. */
static int	 cb_calls;
static char	 cb_path[64];

static int
cb(void *arg, const char *path)
{
	cb_calls++;
	strlcpy(cb_path, path, sizeof(cb_path));
	return *(int *)arg;
}

START_TEST(test_body_pathfn)
{
	struct body_policy	 bp;
	struct json_doc		*d;
	char			 why[128];
	int			 verdict = 0;

	policy(P_BINDS, &bp);
	d = parse(HC("\"Binds\":[\"//srv/data/./x/:/x\"]"));
	cb_calls = 0;
	ck_assert_int_eq(body_check(&bp, "POST", CR, "", json_root(d), cb,
	    &verdict, why, sizeof(why)), 0);
	ck_assert_int_eq(cb_calls, 1);
	ck_assert_str_eq(cb_path, "/srv/data/x");
	verdict = -1;
	ck_assert_int_eq(body_check(&bp, "POST", CR, "", json_root(d), cb,
	    &verdict, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "HostConfig.Binds[0]=//srv/data/./x/:/x");
	json_free(d);
	/* not called for a path no root allows, nor for a named volume */
	d = parse(HC("\"Binds\":[\"vol:/v\",\"/etc:/e\"]"));
	cb_calls = 0;
	ck_assert_int_eq(body_check(&bp, "POST", CR, "", json_root(d), cb,
	    &verdict, why, sizeof(why)), -1);
	ck_assert_int_eq(cb_calls, 0);
	json_free(d);
	d = parse(HC("\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/srv/data\"}]"));
	verdict = -1;
	ck_assert_int_eq(body_check(&bp, "POST", CR, "", json_root(d), cb,
	    &verdict, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "HostConfig.Mounts[0].Source=/srv/data");
	json_free(d);
}
END_TEST

START_TEST(test_body_why)
{
	struct body_policy	 bp;
	struct json_doc		*d;
	char			 why[64];

	policy(P_DEF, &bp);
	/* non-printable bytes escaped, UTF-8 too */
	d = parse(HC("\"Runtime\":\"a\\u0001\\u00e9\""));
	ck_assert_int_eq(body_check(&bp, "POST", CR, "", json_root(d), NULL,
	    NULL, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "HostConfig.Runtime=a\\x01\\xc3\\xa9");
	/* an escape that does not fit is left out whole */
	ck_assert_int_eq(body_check(&bp, "POST", CR, "", json_root(d), NULL,
	    NULL, why, 24), -1);
	ck_assert_str_eq(why, "HostConfig.Runtime=a");
	json_free(d);
	d = parse(HC("\"Runtime\":\"\\u00e9\""));
	{
		char big[64];

		ck_assert_int_eq(body_check(&bp, "POST", CR, "", json_root(d),
		    NULL, NULL, big, sizeof(big)), -1);
		ck_assert_str_eq(big, "HostConfig.Runtime=\\xc3\\xa9");
	}
	json_free(d);
	/* truncated, always terminated */
	d = parse(HC("\"Privileged\":true"));
	ck_assert_int_eq(body_check(&bp, "POST", CR, "", json_root(d), NULL,
	    NULL, why, 5), -1);
	ck_assert_str_eq(why, "Host");
	ck_assert_int_eq(body_check(&bp, "POST", CR, "", json_root(d), NULL,
	    NULL, NULL, 0), -1);
	json_free(d);
}
END_TEST

static char *
xs(const char *s)
{
	char	*r = strdup(s);

	ck_assert_ptr_nonnull(r);
	return r;
}

static void
full_policy(struct body_policy *bp)
{
	memset(bp, 0, sizeof(*bp));
	bp->limit = 65536;
	bp->nbinds = 2;
	bp->binds = calloc(2, sizeof(*bp->binds));
	bp->binds[0].path = xs("/srv/data");
	bp->binds[1].path = xs("/");
	bp->binds[1].readonly = 1;
	bp->ncaps = 1;
	bp->caps = calloc(1, sizeof(char *));
	bp->caps[0] = xs("NET_ADMIN");
	bp->ndevices = 1;
	bp->devices = calloc(1, sizeof(char *));
	bp->devices[0] = xs("/dev/fuse");
	bp->nimages = 2;
	bp->images = calloc(2, sizeof(char *));
	bp->images[0] = xs("docker.io/library/*");
	bp->images[1] = xs("ghcr.io/x/*");
	bp->nruntimes = 1;
	bp->runtimes = calloc(1, sizeof(char *));
	bp->runtimes[0] = xs("runsc");
	bp->nvdrivers = 1;
	bp->vdrivers = calloc(1, sizeof(char *));
	bp->vdrivers[0] = xs("local-persist");
	bp->nsysctls = 1;
	bp->sysctls = calloc(1, sizeof(char *));
	bp->sysctls[0] = xs("net.*");
	bp->hosts = BODY_HOST_NETWORK | BODY_HOST_UTS;
	bp->privileged = 1;
	bp->nsjoin = 0;
	bp->remote = 1;
	bp->plugins = 1;
}

START_TEST(test_body_wire)
{
	struct body_policy	 a, b;
	struct mbuf		 m, r;
	size_t			 cut;

	full_policy(&a);
	mbuf_init(&m);
	ck_assert_int_eq(body_policy_encode(&m, &a), 0);
	mbuf_reader(&r, m.buf, m.len);
	ck_assert_int_eq(body_policy_decode(&r, &b), 0);
	ck_assert_int_eq(mbuf_end(&r), 0);
	ck_assert_uint_eq(b.limit, 65536);
	ck_assert_uint_eq(b.nbinds, 2);
	ck_assert_str_eq(b.binds[0].path, "/srv/data");
	ck_assert_int_eq(b.binds[0].readonly, 0);
	ck_assert_str_eq(b.binds[1].path, "/");
	ck_assert_int_eq(b.binds[1].readonly, 1);
	ck_assert_uint_eq(b.ncaps, 1);
	ck_assert_str_eq(b.caps[0], "NET_ADMIN");
	ck_assert_str_eq(b.devices[0], "/dev/fuse");
	ck_assert_uint_eq(b.nimages, 2);
	ck_assert_str_eq(b.images[1], "ghcr.io/x/*");
	ck_assert_str_eq(b.runtimes[0], "runsc");
	ck_assert_str_eq(b.vdrivers[0], "local-persist");
	ck_assert_str_eq(b.sysctls[0], "net.*");
	ck_assert_uint_eq(b.hosts, BODY_HOST_NETWORK | BODY_HOST_UTS);
	ck_assert_int_eq(b.privileged, 1);
	ck_assert_int_eq(b.nsjoin, 0);
	ck_assert_int_eq(b.remote, 1);
	ck_assert_int_eq(b.plugins, 1);
	body_policy_free(&b);
	ck_assert_ptr_null(b.binds);
	ck_assert_uint_eq(b.nimages, 0);
	/* every truncation refused, nothing leaked (ASan) */
	for (cut = 0; cut < m.len; cut++) {
		mbuf_reader(&r, m.buf, cut);
		ck_assert_int_eq(body_policy_decode(&r, &b), -1);
		ck_assert_ptr_null(b.binds);
		ck_assert_ptr_null(b.caps);
		ck_assert_ptr_null(b.sysctls);
	}
	mbuf_free(&m);
	/* an empty policy */
	body_policy_free(&a);
	memset(&a, 0, sizeof(a));
	mbuf_init(&m);
	ck_assert_int_eq(body_policy_encode(&m, &a), 0);
	mbuf_reader(&r, m.buf, m.len);
	ck_assert_int_eq(body_policy_decode(&r, &b), 0);
	ck_assert_uint_eq(b.nbinds, 0);
	body_policy_free(&b);
	mbuf_free(&m);
}
END_TEST

/* Encode refuses what decode would: non-canonical binds, bad limits. */
START_TEST(test_body_wire_encode_bad)
{
	struct body_policy	 a;
	struct body_bind	 b = { "/srv/data/", 0 };
	struct mbuf		 m;

	memset(&a, 0, sizeof(a));
	a.binds = &b;
	a.nbinds = 1;
	mbuf_init(&m);
	ck_assert_int_eq(body_policy_encode(&m, &a), -1);
	b.path = NULL;
	ck_assert_int_eq(body_policy_encode(&m, &a), -1);
	b.path = "/srv/data";
	a.limit = 10;
	ck_assert_int_eq(body_policy_encode(&m, &a), -1);
	a.limit = BODY_LIMIT_MIN;
	ck_assert_int_eq(body_policy_encode(&m, &a), 0);
	mbuf_free(&m);
}
END_TEST

/* Hostile wire forms: counts, non-canonical binds, flags, limits. */
START_TEST(test_body_wire_bad)
{
	struct body_policy	 b;
	struct mbuf		 m, r;
	int			 k;

	for (k = 0; k < 6; k++) {
		mbuf_init(&m);
		mbuf_add_u64(&m, k == 0 ? 10 : k == 1 ?
		    (uint64_t)BODY_LIMIT_MAX + 1 : 0);
		if (k == 2) {
			mbuf_add_u32(&m, 0xffffffff);	/* bind count */
		} else if (k == 3) {
			mbuf_add_u32(&m, 1);
			mbuf_add_str(&m, "/srv//data/");
			mbuf_add_u32(&m, 0);
		} else {
			mbuf_add_u32(&m, 0);
		}
		mbuf_add_u32(&m, 0);
		mbuf_add_u32(&m, 0);
		mbuf_add_u32(&m, 0);
		mbuf_add_u32(&m, 0);
		mbuf_add_u32(&m, 0);
		mbuf_add_u32(&m, 0);
		mbuf_add_u32(&m, k == 4 ? 0x40 : 0);	/* hosts */
		mbuf_add_u32(&m, k == 5 ? 2 : 0);	/* privileged */
		mbuf_add_u32(&m, 0);
		mbuf_add_u32(&m, 0);
		mbuf_add_u32(&m, 0);
		mbuf_reader(&r, m.buf, m.len);
		ck_assert_msg(body_policy_decode(&r, &b) == -1, "case %d", k);
		ck_assert_ptr_null(b.binds);
		mbuf_free(&m);
	}
}
END_TEST

Suite *
body_suite(void)
{
	Suite	*s = suite_create("body");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, test_body_table, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_body_endpoint);
	tcase_add_test(tc, test_body_content_type);
	tcase_add_loop_test(tc, test_body_path_clean, 0,
	    (int)(sizeof(cleans) / sizeof(cleans[0])));
	tcase_add_test(tc, test_body_path_clean_edges);
	tcase_add_test(tc, test_body_pathfn);
	tcase_add_test(tc, test_body_why);
	tcase_add_test(tc, test_body_wire);
	tcase_add_test(tc, test_body_wire_bad);
	tcase_add_test(tc, test_body_wire_encode_bad);
	suite_add_tcase(s, tc);
	return s;
}
