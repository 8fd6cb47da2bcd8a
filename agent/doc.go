// Package agent is Weft's node agent, the kubelet's role: an API client
// that registers its Node, heartbeats, watches the pods bound to it
// (fieldSelector spec.nodeName) and runs them as processes, reporting
// their status back through the API.
//
//	err := agent.Run(ctx, agent.Config{Client: c, NodeName: "n1", NodeIP: "127.0.0.2",
//		NetworkMode: "netns", Bridge: "weft1", PodCIDR: "10.244.1.0/24",
//		DNSAddr: "127.0.0.1:10053", XDSAddr: "127.0.0.1:15010", DataDir: dir})
//
// One pod worker goroutine per pod gathers what was observed (the runtime's
// files, probe verdicts), asks the pure lifecycle core (agent/lifecycle)
// what to do, does it — start containers through the shim runtime
// (agent/runtime), kill unhealthy ones — and posts the pod's status.
// Images resolve through the catalogue (agent/catalog); volumes are made by
// agent/volumes (persistentVolumeClaims by the built-in local-path
// provisioner, storage.go); limits and usage go through agent/cgroups; the
// pod's network identity comes from a network.Network.
//
// Pod networking (Config.NetworkMode, DESIGN.md "Pod networking"): in host
// mode pods share the host's network, each with a loopback address ($POD_IP).
// In netns mode (root on Linux) each pod gets a network namespace on the
// node's bridge (agent/network.Netns); every container of the pod joins it,
// with a mount namespace where /etc/resolv.conf and /etc/hosts are the
// pod's (podnet.go) and a UTS namespace with the pod's host name. The
// agent serves DNS (port 53) and xDS (15010) at the bridge address,
// forwarding to weftd (agent/relay), and sets WEFT_XDS_ADDR accordingly.
// Pods with a weft-proxy container get Istio's redirect rules; containers
// with securityContext.runAsUser/runAsGroup run as that user. A pod's
// network goes when it is deleted; a restarted agent removes what pods
// deleted meanwhile left (Adopt, removeOrphans); Reset (or ResetOnExit)
// removes the bridge and the host's rules too, as recorded in the data
// directory (network.json).
//
// Sidecars (init containers with restartPolicy Always, KEP-753; weftd
// injects weft-proxy as one) start in the init sequence, which goes on once
// the sidecar's startup probe passes, run beside the app containers
// whatever the pod's restartPolicy, count towards the pod's readiness, and
// are stopped when the app containers have completed. On deletion the app
// containers are stopped first and the sidecars after them, in reverse
// order. A mesh pod's app containers get their SIGTERM MeshTerminationDelay
// (1s) after the deletion, while the other proxies learn that the pod left
// the endpoints, so that a rolling update loses no request. The status is
// posted as the containers stop (a pod whose app stopped while its proxy
// drains shows 1/2), and a terminating pod restarts nothing. A failed
// probe records an Unhealthy event each time, as the kubelet's prober.
//
// The agent serves logs, exec and resource usage on its own HTTP server
// (server.go), which weftd's API server proxies to; the Node's status
// publishes its address (status.addresses InternalIP and
// status.daemonEndpoints.kubeletEndpoint.port). Every path but /healthz
// needs a bearer token that weftd, asked with a TokenReview, says belongs
// to system:masters (the API server presents its own); verdicts are
// remembered for a minute (10 s when refused) (authn.go).
//
// Containers outlive the agent: each is owned by a shim process. Binaries
// that embed the agent must dispatch the hidden "shim" subcommand to
// ShimMain before anything else:
//
//	if len(os.Args) > 1 && os.Args[1] == "shim" {
//		os.Exit(agent.ShimMain(os.Args[2:]))
//	}
package agent
