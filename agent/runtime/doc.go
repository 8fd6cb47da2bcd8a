// Package runtime runs containers as host processes, each owned by a shim.
//
// Start writes the container's Spec to an attempt directory and launches
// "<binary> shim start DIR", which starts the shim ("shim run DIR") in a
// session of its own and returns once the program runs. The shim is the
// program's parent: it writes the program's stdout and stderr, as
// timestamped lines in the CRI log format, to DIR/log, and its exit status
// to DIR/exit.json. The shim outlives the agent, so an agent that restarts
// re-adopts running containers by reading these files (Observe).
//
// On disk, under the runtime's root:
//
//	<pod uid>/pod.json                         the agent's record of the pod
//	<pod uid>/containers/<name>/<attempt>/     one directory per run (attempt = restart count)
//	    spec.json   what runs: argv, env, working dir, mounts, cgroup, netns, user
//	    state.json  pid, process start time, when it started
//	    log         "2006-01-02T15:04:05.999999999Z stdout F text" lines
//	    exit.json   exit code, signal, reason (Completed, Error, OOMKilled, StartError)
//
// The shim starts the program through "shim exec DIR", a helper that runs
// in the container's view of the host: it joins the container's cgroup and
// the pod's network namespace (Spec.NetNS) and, when the spec has mounts,
// sets them up in a private mount namespace (bind mounts of volumes onto
// their mountPaths, a private /tmp, the pod's /etc/resolv.conf) before it
// sets the host name (in a UTS namespace of its own), becomes the
// container's user (Spec.User) and execs the program; a missing mount
// point below an existing directory is made in an overlay of that
// directory, so the host is left untouched.
// Kubernetes' exec and exec probes use the same helper ("shim exec DIR --
// CMD...") and so see the same environment and files.
//
// Binaries that embed the agent dispatch "shim" to ShimMain:
//
//	if len(os.Args) > 1 && os.Args[1] == "shim" {
//		os.Exit(runtime.ShimMain(os.Args[2:]))
//	}
package runtime
