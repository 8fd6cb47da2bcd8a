package main

import "fmt"

// notes says, for each area of the report, how its figures were measured.
func (r report) notes(area string) []string {
	sz := r.sizes
	switch area {
	case areaSidecar:
		return []string{
			"One backend (a Go net/http server answering a 2-byte body, a process of its own: `bench -serve backend`), and in front of it, each a process on a port of 127.0.0.1: nginx and haproxy from Debian with generated configurations (nginx: its defaults, a worker per CPU, no access log, an upstream pool with `keepalive 256`; haproxy: its defaults, one thread per CPU, `mode http`), Go's `httputil.ReverseProxy` tuned (a `BufferPool`, a keep-alive pool of 1,024, a warmed transport: `bench -serve revproxy`), and weft-proxy (`cmd/weft-proxy`, built for the run).",
			fmt.Sprintf("weft-proxy is the host-mode sidecar of a pod (`--network host`: its outbound side is the HTTP proxy pods reach through `HTTP_PROXY`), fed over ADS by weft's own xDS server (package `controlplane/xds`, run in the harness process) with the translation of a mesh of %d services with two subsets and a 90/10 VirtualService each, plus the two services measured: %d virtual hosts, %d clusters. Its access log is off, as nginx's and haproxy's are; its Prometheus metrics are kept (they cannot be turned off).", sidecarServices, sidecarServices+2, 3*sidecarServices+2),
			fmt.Sprintf("Throughput: wrk (`-t2`) at 16 connections for %s, then at 64 connections for %s (the target's figure; the CPU and RSS figures are read over this run), against each path in turn; `@64 × direct` is the path's requests/s over the direct path's in the same round.", sz.wrk16For, sz.wrkFor),
			fmt.Sprintf("Latency: after the wrk runs, fortio %s at a fixed %s req/s over %d connections for %s per path, in turn, each after a second of quiet (`-r 0.00001`: histogram buckets 50 µs wide up to 500 µs, 100 µs up to 1 ms, 200 µs up to 2 ms, 500 µs up to 5 ms; percentiles interpolated within a bucket); the added latency is the path's percentile minus the direct path's in the same round. A p99 at 1,000 req/s catches whatever else the machine was doing in that second (see the load average): read the p99 columns with their ranges.", fortioVersion, count(int(sz.fortioQPS)), sz.fortioConns, sz.fortioFor),
			"CPU per request: the proxy's CPU time (all its processes) over the 64-connection wrk run, divided by the requests wrk completed. RSS: VmRSS of the proxy's processes right after that run, and their peak (VmHWM) since start; nginx and haproxy count their master process and their workers (shared pages count once per process). Private: RssAnon of the same processes, the memory each further copy costs; VmRSS also counts the pages of the binary the process has touched (about 18 MB of weft-proxy's, mapped from the page cache and shared by every weft-proxy on a node).",
			"Under wrk the load generator, the backend and the proxy share the two cores, so req/s measures the whole chain (see ../shared/PERFORMANCE.md); at a fixed 1,000 req/s the machine is mostly idle and the added latency is the proxy's own.",
		}
	case areaMesh:
		return []string{
			fmt.Sprintf("Two weft-proxies in a row, as two pods' sidecars: the client pod's (the same process as in the sidecar table: host mode, outbound HTTP proxy) routes `%s` to the server pod at %s; there the server pod's weft-proxy (`--network netns`, its inbound listener bound on %s:<backend port> instead of 15006, as iptables would send it the pod's port) applies the inbound chain of that port and forwards to its app at 127.0.0.1:<backend port>, the backend. No mTLS (weft's xDS serves no secrets yet).", meshHost, serverPodIP, serverPodIP),
			fmt.Sprintf("fortio at %s req/s over %d connections, %s per path; direct, nginx (one hop), one weft-proxy and two, in turn; added latency is against the direct path of the same round.", count(int(sz.fortioQPS)), sz.fortioConns, sz.fortioFor),
			"Istio publishes +0.30 ms p99 for two sidecars with mTLS, on machines far larger than this one.",
		}
	case areaXDS:
		return []string{
			fmt.Sprintf("weft's xDS server (package `controlplane/xds`, as weftd runs it, with weftd's default push debounce of 100 ms) runs in a process of its own (`bench -serve xds`), over a mesh of %s services × %d endpoints in 10 namespaces (every tenth service with a DestinationRule of two subsets and a VirtualService splitting 90/10 between them).", count(sz.xdsServices), sz.xdsEndpoints),
			fmt.Sprintf("%s simulated proxies, each its own gRPC connection and ADS stream (state of the world) from the harness: the sidecars of the %d replicas of the first %d services, so proxies of one Deployment share labels and the server translates once per distinct view (%d views). They subscribe to CDS and LDS (wildcard), then EDS and RDS (`*`), and ACK every response at once without decoding its resources.", count(sz.xdsProxies), sz.xdsEndpoints, sz.xdsProxies/sz.xdsEndpoints, sz.xdsProxies/sz.xdsEndpoints),
			fmt.Sprintf("A route change pushes a new mesh whose VirtualServices split differently (every proxy's RDS changes); an endpoint change moves one endpoint of one service to another address (every proxy's EDS changes). Each is timed from the push (the server's Push, of a mesh built beforehand; the 100 ms debounce counts) to each proxy's ACK of the new version; %d of each per round, one after the other once the previous one is ACKed everywhere. p50 and p99 are over every proxy's ACK of every change of the round; \"all ACKed\" is the slowest proxy, per change.", sz.xdsChanges),
			"Server CPU and memory: the server process's, from /proc; the load generator (the simulated proxies) is the harness.",
		}
	case areaDNS:
		return []string{
			fmt.Sprintf("weft's DNS server (package `dns`, as weftd runs it: `bench -serve dns`) and CoreDNS %s, each a process of its own, serve the same %s services (50 namespaces, two named ports, three pods each): weft from its index (`dns.BuildIndex`), CoreDNS from a zone file of the same names (its `file` plugin: its `kubernetes` plugin needs a Kubernetes API server). Other names go to a fake upstream in the harness (`forward` and `cache` for CoreDNS); the cached-name rows ask names that are in both caches already.", corednsVersion, count(sz.dnsServices)),
			fmt.Sprintf("Load: %d clients in the harness, each its own UDP socket, one query at a time, for %s per server and kind of name (no rate limit: what the server and the machine sustain, like dnsperf without -Q); cluster names rotate over 1,000 services, external names over 100. The servers take turns, weft first, in every round.", sz.dnsClients, sz.dnsFor),
			"Memory: VmRSS of each server after the load, with the whole cluster loaded.",
		}
	case areaScheduler:
		return []string{
			fmt.Sprintf("`scheduler.BenchmarkThroughput(%s, %s)`: the real scheduling loop (queue, snapshot, every plugin of the default profile, assume, asynchronous binding) with %s nodes in memory and a binder that confirms each binding as the pod informer would, without an API server; pods/s from the first pop to the last binding, in the harness process. After kube-scheduler's scheduler_perf SchedulingBasic: 4-CPU nodes in three zones, pods of 100m CPU owned by ReplicaSets of 100.", count(sz.schedNodes), count(sz.schedPods), count(sz.schedNodes)),
			"kube-scheduler's CI floor is 680 pods/s (5,000 nodes); the target here is 1,000.",
		}
	case areaWorkloads:
		return []string{
			"weftd (built for the run) with its local agent in host mode (`--network host`, a loopback address per pod), a fresh data directory, every listener on 127.0.0.1:0.",
			"Each pod: one container of image `nginx` (the catalogue runs `weft-demo static`, listening on its containerPort) with a readiness probe on that port, and `sidecar.istio.io/inject: \"true\"`, so weftd adds weft-proxy, which must get its configuration over xDS before the pod is Ready.",
			fmt.Sprintf("Sequential: %d pods, each created once the previous one is Ready; a sample is the time from the create request to the watch event that shows the pod Ready. At once: %d pods created by 16 clients together; the time from the first create to the last pod Ready.", sz.podsSequential, sz.podsBurst),
			"The Kubernetes SLO for pod startup is 5 s p99 (without image pulls); the targets here are 1 s p99 and 15 s for 100 at once.",
		}
	case areaApply:
		return []string{
			"Objects are ConfigMaps, Services and Deployments in turn, built in Go and sent with `client.Apply` (weftctl's apply: weftd gets, then creates) into a fresh namespace each round, so every apply creates.",
			"The Deployments have `replicas: 0`: weftd's controllers make their ReplicaSets but no pods, so the figures are the API server's and the phases after it do not compete with pods being made in the background (that is for the workloads benchmarks).",
			fmt.Sprintf("weftd (no `-race`) runs as a process with a fresh data directory, every listener on `127.0.0.1:0` (%s) and its local agent idle in host network mode (removed with its node gateway afterwards), driven through its HTTP API with package `client`; the concurrent clients and watchers of a phase are each their own `client.New`, reused from phase to phase. Before each phase the harness waits until weftd is idle (under 5%% of a core over half a second, at most %s). Every write is durable: weftd answers after the store's commit is fsynced (group commit). CPU rows: weftd's and the harness's own (`getrusage`), per operation.", listenText(r.listeners), settleLimit),
		}
	case areaLatency:
		return []string{
			"One client creates ConfigMaps one after the other (after 20 unmeasured warm-up creates); each sample is one create, from request to durable acknowledgement.",
		}
	case areaSustained:
		return []string{
			fmt.Sprintf("%d clients create ConfigMaps in a loop for %s; the rate is the writes acknowledged divided by the time until the last writer has its answer.", sz.sustainedWriters, sz.sustainedFor),
			"The plain net/http row makes the same creates with a lean load generator, as `hey` would: the JSON body is pasted from a template and the answer is read but not decoded. Package client encodes each object and decodes each answer with `api.Decode`, which costs about as much CPU as weftd spends on the request; on a small machine that CPU is taken from weftd. The gap between the two rows is the client's share.",
			"Writes per commit: the acknowledged writes divided by the bbolt transactions committed meanwhile (the txid in the file's meta page, read from outside). Every transaction ends in fdatasync (bbolt syncs twice per commit: data pages, then the meta page).",
		}
	case areaList:
		return []string{
			fmt.Sprintf("%s pods (one container each, labels `app=bench`, `bucket=00`…`99`) are created once before the first round. They are bound to a node that does not exist (`spec.nodeName: %s`), so they are only stored: the scheduler leaves them alone and nothing runs them (this weftd runs with `--controllers '*,-podgc'`, since PodGC deletes pods of missing nodes after 40 s).", count(sz.pods), noNode),
			"`client.List` is what weftctl and the controllers pay: it decodes and checks every item. The raw JSON row is a GET of the same path with `client.Raw`, read but not decoded: weftd's part plus the transfer.",
			"The label-selected list is filtered in weftd (which reads every pod of the namespace, decoding only its metadata — and, for pods, spec.nodeName and status.phase — to select, and in full only the pods it returns).",
			fmt.Sprintf("Lists are repeated up to %d times (full) and %d times (selected) per round, within a time budget of %s and %s (at least 3 each); the sample counts are below.", sz.fullLists, sz.selectedLists, sz.fullListBudget, sz.selectedBudget),
		}
	case areaWatch:
		return []string{
			fmt.Sprintf("%d watchers (each its own client and connection) watch the pods of a fresh namespace from its current resourceVersion; the pods written are like the list's (bound to `%s`).", sz.watchers, noNode),
			fmt.Sprintf("Latency: %d pods are created one at a time; after each create is acknowledged, the harness waits until every watcher has decoded the event. \"acknowledged →\" is from the create's response to the last watcher (0 when all had it before the response arrived); \"sent →\" is from the start of the create.", sz.watchLatency),
			fmt.Sprintf("Events/s: %s pods are created by %d writers at once; the rate is (creates × watchers) / the time from the first create to the last watcher having the last event. The burst stays below the store's per-watcher buffer (1,024 events), beyond which weftd drops a watcher that reads too slowly and it must re-list.", count(sz.watchBurst), sz.watchWriters),
		}
	case areaProcess:
		return []string{
			"From `/proc/<pid>/status` of weftd after every round has run, before it is stopped. weftd's memory grows with what it stores when its controllers cache whole objects (the garbage collector watches ConfigMaps, Secrets, pods and more), so read it with the revision and file size beside it.",
		}
	}
	return nil
}
