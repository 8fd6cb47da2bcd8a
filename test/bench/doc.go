// Command bench measures Weft side by side with what users would run
// instead, and writes docs/BENCHMARKS.md and its charts, docs/bench/*.svg:
//
//	go run ./test/bench -out docs/BENCHMARKS.md          # make bench: 3 rounds, under 15 minutes on 2 cores
//	go run ./test/bench -quick -out docs/BENCHMARKS.md   # make bench-quick: 1 round, smaller sizes, under 2 minutes
//	go run ./test/bench -rounds 5                        # more rounds; no -out prints the report
//	go run ./test/bench -quick -areas sidecar,dns        # some areas only (api, sidecar, xds, dns, scheduler, workloads)
//
// It installs what it compares against when missing (apt-get: nginx,
// haproxy, wrk, hey, dig; CoreDNS built once from the Go module proxy in a
// scratch module under the user's cache directory; fortio is a library in
// weft's go.mod), builds weftd, weft-proxy and weft-demo (without -race),
// and measures every area in turn, on 127.0.0.1 only. Every comparison is
// interleaved — each subject takes its turn in every round — and reported
// as the median of the rounds with their min – max, a ratio to its baseline
// taken within each round. An area that fails is reported as failed, with
// the error, and the others still run.
//
// One file per area:
//
//   - sidecar.go: one backend behind nginx, haproxy, a tuned
//     httputil.ReverseProxy and weft-proxy (fed by weft's xDS server,
//     package controlplane/xds, in the harness): req/s with wrk at 16 and
//     64 connections, added latency with fortio at 1,000 req/s, CPU per
//     request and RSS of each proxy; then the mesh's two-hop path (the
//     client pod's weft-proxy to the server pod's) against nginx's one hop.
//   - xdsbench.go: weft's xDS server in a process of its own with 1,000
//     services × 10 endpoints, and 1,000 simulated proxies over real gRPC
//     ADS streams that ACK: push → ACK for a route and an endpoint change.
//   - dnsbench.go: weft's DNS server against CoreDNS, the same 10,000
//     services in each: queries/s and latency for cluster names and cached
//     external names, and memory.
//   - scheduler.go: scheduler.BenchmarkThroughput(1000, 10000).
//   - workloads.go: a weftd with its agent in host mode: apply → Ready for
//     pods with sidecars, one at a time and 100 at once.
//   - apply.go, writes.go, list.go, watch.go: the API server and the
//     durable store through a weftd process (weftd.go starts it and reads
//     its memory, CPU time and commit count); store.go runs the store's Go
//     benchmarks.
//
// The harness binary doubles as the small servers the comparisons run as
// processes of their own, so that their CPU and memory are read apart from
// the load generator's (serve.go: "bench -serve backend|revproxy|xds|dns");
// proc.go starts and stops processes and reads /proc for whole process
// trees; mesh.go builds the clusters they serve; tools.go installs and
// builds the tools and runs wrk; loadgen.go runs fortio and the DNS load.
// Every process is stopped on every way out: an error, a panic (workers
// recover theirs into errors), SIGINT or SIGTERM; if the harness itself is
// killed, the kernel kills its children too (PR_SET_PDEATHSIG) and the
// served programs stop when their standard input closes. Pods the
// workloads started are removed with agent.Reset. Every loop is bounded in
// count or time, and the whole run by a deadline.
//
// WEFT_BENCH_PROFILE_DIR=DIR makes each served program write a CPU
// profile to DIR/<kind>.pprof (the xDS server: DIR/xds.pprof).
//
// stats.go has the percentiles, medians and ranges; results.go, notes.go,
// report.go and svg.go collect the figures and render the Markdown and the
// SVG charts. Unit tests (go test ./test/bench/) cover those helpers and
// never start a process.
package main
