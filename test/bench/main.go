package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/weft-mesh/weft/agent"
	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// sizes are how much each measurement does; -quick picks smaller ones.
type sizes struct {
	quick            bool
	rounds           int
	applyObjects     int           // objects applied per round, sequentially and again concurrently
	applyClients     int           // concurrent clients of the concurrent apply
	latencySamples   int           // sequential ConfigMap creates timed one by one
	sustainedWriters int           // concurrent writers of the sustained phase
	sustainedFor     time.Duration // how long they write
	pods             int           // pods created once, then listed
	fullLists        int           // at most this many full lists per round...
	fullListBudget   time.Duration // ...and no more than this time on them (at least 3)
	selectedLists    int           // the same for the label-selected list
	selectedBudget   time.Duration
	watchers         int // concurrent watchers of one namespace's pods
	watchLatency     int // writes made one at a time, each awaited by every watcher
	watchBurst       int // writes made at once by watchBurstWriters, for events/s
	watchWriters     int
	storeBenchtime   string        // -benchtime of the store's Go benchmarks
	deadline         time.Duration // the whole run, a bound in case something hangs

	// Sidecar and mesh.
	wrkFor      time.Duration // each wrk run at 64 connections (the target's)...
	wrk16For    time.Duration // ...and at 16
	fortioFor   time.Duration // each fortio run...
	fortioQPS   float64       // ...at this rate...
	fortioConns int           // ...over this many connections
	// xDS.
	xdsServices, xdsEndpoints, xdsProxies int
	xdsChanges                            int           // route changes and endpoint changes per round, each
	xdsBudget                             time.Duration // no round starts after this much time (the first always runs)
	// DNS.
	dnsServices  int
	dnsFor       time.Duration // each load run
	dnsClients   int
	buildCoreDNS bool // build CoreDNS when it is not built yet
	// Scheduler.
	schedNodes, schedPods int
	// Workloads.
	podsSequential, podsBurst int
	wlRounds                  int // rounds of the workloads (pods take long to start and stop)
}

func fullSizes() sizes {
	return sizes{
		rounds:           3,
		applyObjects:     1000,
		applyClients:     16,
		latencySamples:   2000,
		sustainedWriters: 64,
		sustainedFor:     10 * time.Second,
		pods:             10000,
		fullLists:        20,
		fullListBudget:   10 * time.Second,
		selectedLists:    200,
		selectedBudget:   6 * time.Second,
		watchers:         100,
		watchLatency:     200,
		// Below the store's per-watcher buffer (1024 events), so a watcher
		// that reads slowly is measured, not dropped.
		watchBurst:     500,
		watchWriters:   16,
		storeBenchtime: "2000x",
		deadline:       20 * time.Minute,

		wrkFor:         10 * time.Second,
		wrk16For:       5 * time.Second,
		fortioFor:      3 * time.Second,
		fortioQPS:      1000,
		fortioConns:    16,
		xdsServices:    1000,
		xdsEndpoints:   10,
		xdsProxies:     1000,
		xdsChanges:     1,
		xdsBudget:      75 * time.Second,
		dnsServices:    10000,
		dnsFor:         2 * time.Second,
		dnsClients:     16,
		buildCoreDNS:   true,
		schedNodes:     1000,
		schedPods:      10000,
		podsSequential: 50,
		podsBurst:      100,
		wlRounds:       1,
	}
}

func quickSizes() sizes {
	return sizes{
		quick:            true,
		rounds:           1,
		applyObjects:     200,
		applyClients:     16,
		latencySamples:   300,
		sustainedWriters: 64,
		sustainedFor:     3 * time.Second,
		pods:             2000,
		fullLists:        5,
		fullListBudget:   5 * time.Second,
		selectedLists:    50,
		selectedBudget:   3 * time.Second,
		watchers:         100,
		watchLatency:     50,
		watchBurst:       100,
		watchWriters:     16,
		storeBenchtime:   "200x",
		deadline:         5 * time.Minute,

		wrkFor:         time.Second,
		wrk16For:       time.Second,
		fortioFor:      time.Second,
		fortioQPS:      1000,
		fortioConns:    16,
		xdsServices:    200,
		xdsEndpoints:   10,
		xdsProxies:     200,
		xdsChanges:     1,
		xdsBudget:      30 * time.Second,
		dnsServices:    10000,
		dnsFor:         time.Second,
		dnsClients:     16,
		schedNodes:     200,
		schedPods:      2000,
		podsSequential: 3,
		podsBurst:      10,
		wlRounds:       1,
	}
}

// allAreas are the parts of a run, in the order they run; -areas picks some.
var allAreas = []string{"api", "sidecar", "xds", "dns", "scheduler", "workloads"}

func main() {
	// The harness binary also serves the small programs the comparisons
	// run as processes of their own (serve.go).
	if len(os.Args) > 2 && os.Args[1] == "-serve" {
		os.Exit(serveMain(os.Args[2], os.Args[3:]))
	}
	quick := flag.Bool("quick", false, "smaller sizes and one round (under two minutes)")
	out := flag.String("out", "", "write the report here (docs/BENCHMARKS.md, and the charts in docs/bench/); empty: standard output")
	rounds := flag.Int("rounds", 0, "rounds of every measurement (default 3, or 1 with -quick)")
	areas := flag.String("areas", strings.Join(allAreas, ","), "the parts to run, comma-separated: "+strings.Join(allAreas, ", "))
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	sz := fullSizes()
	if *quick {
		sz = quickSizes()
	}
	if *rounds > 0 {
		sz.rounds = *rounds
	}
	want := map[string]bool{}
	for _, a := range strings.Split(*areas, ",") {
		if a = strings.TrimSpace(a); !slices.Contains(allAreas, a) {
			fmt.Fprintf(os.Stderr, "bench: unknown area %q (want %s)\n", a, strings.Join(allAreas, ", "))
			os.Exit(2)
		}
		want[a] = true
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, sz, want, *out)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run installs the tools, builds the binaries and measures each area in
// turn, then writes the report and its charts. Every process it starts is
// stopped and the temporary directory removed on every return, also on a
// panic here or a signal. An area that fails is reported as failed, with
// the reason, and the others still run.
func run(ctx context.Context, sz sizes, want map[string]bool, out string) error {
	ctx, cancel := context.WithTimeout(ctx, sz.deadline)
	defer cancel()
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "weft-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	started := time.Now()
	loadBefore := loadAverage()
	versions := ensureTools(ctx)
	bins := filepath.Join(tmp, "bin")
	progress("building weftd, weft-proxy and weft-demo")
	if err := buildBinaries(ctx, root, bins, "./cmd/weftd", "./cmd/weft-proxy", "./examples/weft-demo"); err != nil {
		return err
	}
	b := &bench{sz: sz, res: newResults(), tmp: tmp, bins: bins, root: root, versions: versions}
	var (
		store     storeBench
		listeners []string
		fs        string
	)
	if want["api"] {
		dataDir := filepath.Join(tmp, "data")
		fs = fsType(filepath.Dir(dataDir))
		var err error
		listeners, err = b.runAPI(ctx, dataDir)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			b.res.failed[areaApply] = err.Error()
			progress("API and store: %v", err)
		}
		progress("store Go benchmarks (-benchtime %s)", sz.storeBenchtime)
		store = runStoreBench(ctx, root, sz.storeBenchtime)
	}
	for _, a := range []struct {
		name  string
		areas []string
		fn    func(context.Context) error
	}{
		{"sidecar", []string{areaSidecar, areaMesh}, b.runSidecarAreas},
		{"xds", []string{areaXDS}, b.runXDS},
		{"dns", []string{areaDNS}, b.runDNS},
		{"scheduler", []string{areaScheduler}, b.runScheduler},
		{"workloads", []string{areaWorkloads}, b.runWorkloads},
	} {
		if !want[a.name] {
			continue
		}
		t := time.Now()
		err := a.fn(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", a.name, ctx.Err())
		}
		if err != nil {
			progress("%s failed: %v", a.name, err)
			for _, area := range a.areas {
				if b.res.failed[area] == "" {
					b.res.failed[area] = err.Error()
				}
			}
		}
		progress("%s: done in %s", a.name, time.Since(t).Round(time.Second))
	}

	rep := report{
		sizes:     sz,
		areas:     want,
		listeners: listeners,
		machine:   describeMachine(ctx, fs, loadBefore, loadAverage()),
		versions:  versions,
		results:   b.res,
		store:     store,
		took:      time.Since(started),
	}
	text := rep.markdown()
	if out == "" {
		_, err = os.Stdout.WriteString(text)
		return err
	}
	if err := writeFile(out, []byte(text)); err != nil {
		return err
	}
	charts := filepath.Join(filepath.Dir(out), "bench")
	if err := writeCharts(charts, rep.charts()); err != nil {
		return err
	}
	progress("wrote %s and %s/*.svg in %s", out, charts, time.Since(started).Round(time.Second))
	return nil
}

// runAPI starts weftd, measures the API and the store through it in every
// round, records its memory and stops it. It returns weftd's listen-address flags.
//
// weftd's local agent runs too, idle, in host network mode (no bridge or
// host firewall rules to leave behind); it starts the node's gateway proxy,
// which, like every container, outlives weftd by design, so agent.Reset
// removes it once weftd has stopped.
func (b *bench) runAPI(ctx context.Context, dataDir string) ([]string, error) {
	bin := filepath.Join(b.bins, "weftd")
	node := nodeNameFor(dataDir)
	// PodGC is off: the list's pods are bound to a node that does not
	// exist (noNode), which PodGC would delete after its 40 s quarantine.
	w, err := startWeftd(ctx, bin, dataDir, "--network", "host", "--pod-cidr", "127.241.0.0/16", "--node-name", node, "--controllers", "*,-podgc")
	if err != nil {
		return nil, err
	}
	defer func() {
		w.stop()
		if err := agent.Reset(filepath.Join(dataDir, "agent"), node); err != nil {
			progress("API: reset weftd's agent: %v", err)
		}
	}()
	progress("weftd (pid %d) serving on %s, data in %s", w.cmd.Process.Pid, w.url, dataDir)
	b.w = w
	if err := b.measure(ctx); err != nil {
		return w.listeners, fmt.Errorf("%w\nweftd's log (last part):\n%s", err, tail(w.log.String(), 20))
	}
	return w.listeners, b.recordProcess(ctx)
}

// bench is one run against one weftd.
type bench struct {
	sz       sizes
	w        *weftd
	res      *results
	pool     []*client.Client // see clients
	tmp      string           // the run's temporary directory
	bins     string           // weftd, weft-proxy, weft-demo, built for the run
	root     string           // the module's root
	versions map[string]string
}

// clients returns n clients, each with its own connections. They are
// shared by the phases (which run one after the other), so that weftd is not
// left holding the idle connections of clients the harness dropped: the
// process figures are for about as many connections as the largest phase
// uses. Only the goroutine running the phases calls it.
func (b *bench) clients(n int) []*client.Client {
	for len(b.pool) < n {
		b.pool = append(b.pool, b.w.client())
	}
	return b.pool[:n]
}

// measure runs every area once per round. The pods the list measures are
// created once, before the first round.
func (b *bench) measure(ctx context.Context) error {
	if err := b.createPods(ctx); err != nil {
		return err
	}
	busy, err := b.settle(ctx)
	if err != nil {
		return err
	}
	b.res.add(areaList, fmt.Sprintf("setup, once: weftd busy after the pod creates (its controllers catching up), up to %s", settleLimit), "s", busy.Seconds())
	for round := 1; round <= b.sz.rounds; round++ {
		steps := []struct {
			name string
			fn   func(context.Context, int) error
		}{
			{"apply", b.benchApply},
			{"write latency", b.benchWriteLatency},
			{"sustained writes", b.benchSustained},
			{"list", b.benchList},
			{"watch fan-out", b.benchWatch},
		}
		for _, s := range steps {
			if _, err := b.settle(ctx); err != nil {
				return err
			}
			t := time.Now()
			if err := s.fn(ctx, round); err != nil {
				return fmt.Errorf("round %d, %s: %w", round, s.name, err)
			}
			progress("round %d/%d: %s done in %s", round, b.sz.rounds, s.name, time.Since(t).Round(10*time.Millisecond))
		}
	}
	return nil
}

// settleLimit bounds how long settle waits.
const settleLimit = 60 * time.Second

// settle waits until weftd is idle — less than 5% of a core over half a
// second — so that a phase does not pay for the work its predecessor left
// behind (controllers and informers catching up on a burst of writes). It
// gives up after settleLimit and returns how long it waited.
func (b *bench) settle(ctx context.Context) (time.Duration, error) {
	const window, idle = 500 * time.Millisecond, 25 * time.Millisecond
	start := time.Now()
	for time.Since(start) < settleLimit {
		before, err := b.w.cpu()
		if err != nil {
			return 0, err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(window):
		}
		after, err := b.w.cpu()
		if err != nil {
			return 0, err
		}
		if after-before < idle {
			return time.Since(start), nil
		}
	}
	progress("weftd still busy after %s; going on", settleLimit)
	return time.Since(start), nil
}

// recordProcess records weftd's resident memory after the runs, and what
// it holds then: the store's revision (every write so far, the harness's
// and weftd's own) and the size of its data file.
func (b *bench) recordProcess(ctx context.Context) error {
	rss, peak, err := b.w.memory()
	if err != nil {
		return fmt.Errorf("read weftd's memory: %w", err)
	}
	_, rv, err := b.clients(1)[0].List(ctx, api.LookupName("namespaces"), "", client.ListOptions{})
	if err != nil {
		return err
	}
	rev, err := strconv.ParseFloat(rv, 64)
	if err != nil {
		return fmt.Errorf("resourceVersion %q: %w", rv, err)
	}
	fi, err := os.Stat(filepath.Join(b.w.dataDir, "weft.db"))
	if err != nil {
		return err
	}
	b.res.add(areaProcess, "resident memory (VmRSS) after the runs", "MiB", float64(rss)/(1<<20))
	b.res.add(areaProcess, "peak resident memory (VmHWM)", "MiB", float64(peak)/(1<<20))
	b.res.add(areaProcess, "store revision then (writes since weftd started)", "writes", rev)
	b.res.add(areaProcess, "data file size then (weft.db)", "MiB", float64(fi.Size())/(1<<20))
	return nil
}

// parallel calls fn(0), ..., fn(n-1) in n goroutines and returns the first
// error. A panic in fn is returned as an error, so that run still stops
// weftd and removes its files.
func parallel(n int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for i := range n {
		wg.Go(func() {
			defer func() {
				if r := recover(); r != nil {
					once.Do(func() { first = fmt.Errorf("panic: %v\n%s", r, debug.Stack()) })
				}
			}()
			if err := fn(i); err != nil {
				once.Do(func() { first = err })
			}
		})
	}
	wg.Wait()
	return first
}

// moduleRoot is the folder of the main module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run the harness inside the weft module (go run ./test/bench)")
	}
	return filepath.Dir(gomod), nil
}

// writeFile replaces path whole: a reader sees the old report or the new one.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}
