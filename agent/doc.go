// Package agent is Weft's node agent, the kubelet's role: an API client
// that registers its Node, heartbeats, watches the pods bound to it
// (fieldSelector spec.nodeName) and runs them as processes, reporting
// their status back through the API.
//
//	err := agent.Run(ctx, agent.Config{Client: c, NodeName: "n1", NodeIP: "127.0.0.2",
//		PodCIDR: "127.20.0.0/16", DataDir: dir})
//
// One pod worker goroutine per pod gathers what was observed (the runtime's
// files, probe verdicts), asks the pure lifecycle core (agent/lifecycle)
// what to do, does it — start containers through the shim runtime
// (agent/runtime), kill unhealthy ones — and posts the pod's status.
// Images resolve through the catalogue (agent/catalog); volumes are made by
// agent/volumes (persistentVolumeClaims by the built-in local-path
// provisioner, storage.go); limits and usage go through agent/cgroups; the
// pod's network identity comes from a network.Network (host mode now).
//
// The agent serves logs, exec and resource usage on its own HTTP server
// (server.go), which weftd's API server proxies to; the Node's status
// publishes its address (status.addresses InternalIP and
// status.daemonEndpoints.kubeletEndpoint.port).
//
// Containers outlive the agent: each is owned by a shim process. Binaries
// that embed the agent must dispatch the hidden "shim" subcommand to
// ShimMain before anything else:
//
//	if len(os.Args) > 1 && os.Args[1] == "shim" {
//		os.Exit(agent.ShimMain(os.Args[2:]))
//	}
package agent
