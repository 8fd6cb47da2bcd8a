// Command bench measures Weft's foundation — the API server and the durable
// store — and writes docs/BENCHMARKS.md:
//
//	go run ./test/bench -out docs/BENCHMARKS.md          # make bench: 3 rounds, ~5 minutes on 2 cores
//	go run ./test/bench -quick -out docs/BENCHMARKS.md   # make bench-quick: 1 round, smaller sizes, ~1 minute
//	go run ./test/bench -rounds 5                        # more rounds; no -out prints the report
//
// It builds cmd/weftd (without -race), starts it as a real process on
// 127.0.0.1:0 with a temporary data directory (and HOME, so ~/.weft is never
// touched), reads the admin token from the client config weftd writes, and
// drives it through the HTTP API with package client, one client.New per
// concurrent client or watcher (reused from phase to phase). weftd is
// stopped and the directory removed on every way out: an error, a panic
// (workers recover theirs into errors), SIGINT or SIGTERM; if the harness
// itself is killed, the kernel kills weftd too (PR_SET_PDEATHSIG) and only
// the /tmp/weft-bench-* directory stays behind. Every loop is bounded in
// count, and the whole run by a deadline.
//
// One file per area, each a method of bench run once per round:
//
//   - apply.go: apply of a mix of ConfigMaps, Services and Deployments,
//     sequentially and from 16 clients: seconds and objects/s.
//   - writes.go: single-create latency p50/p99, and durable writes/s
//     sustained by 64 writers against the target (≥ 2,000/s), with
//     package client and again with plain net/http requests (as hey makes
//     them), with the writes per group commit read from the bbolt file's
//     meta page.
//   - list.go: full and label-selected lists of 10,000 stored pods.
//   - watch.go: 100 watchers of one namespace's pods: time from a write's
//     acknowledgement until all of them have it, and events/s delivered.
//
// Besides wall-clock figures, the phases record the CPU time weftd and the
// harness spent per operation, which shows whether weftd or the client side
// used up the cores.
//
// weftd.go starts and stops the process and reads its memory, CPU time and
// commit count; store.go runs and parses the store's Go benchmarks;
// stats.go has the percentiles, medians and ranges; results.go and
// report.go collect the figures and render the Markdown. Unit tests
// (go test ./test/bench/) cover those helpers and never start weftd.
package main
