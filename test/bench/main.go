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
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

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
		deadline:       15 * time.Minute,
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
	}
}

func main() {
	quick := flag.Bool("quick", false, "smaller sizes and one round (under a minute)")
	out := flag.String("out", "", "write the report here (docs/BENCHMARKS.md); empty: standard output")
	rounds := flag.Int("rounds", 0, "rounds of every measurement (default 3, or 1 with -quick)")
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
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, sz, *out)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run builds and starts weftd, measures, stops it, runs the store's Go
// benchmarks and writes the report. weftd is stopped and the temporary
// directory removed on every return, also on a panic here or a signal.
func run(ctx context.Context, sz sizes, out string) error {
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
	progress("building weftd")
	bin, err := buildWeftd(ctx, root, tmp)
	if err != nil {
		return err
	}
	dataDir := filepath.Join(tmp, "data")
	w, err := startWeftd(ctx, bin, dataDir)
	if err != nil {
		return err
	}
	defer w.stop()
	progress("weftd (pid %d) serving on %s, data in %s", w.cmd.Process.Pid, w.url, dataDir)

	b := &bench{sz: sz, w: w, res: newResults()}
	if err := b.measure(ctx); err != nil {
		return fmt.Errorf("%w\nweftd's log (last part):\n%s", err, tail(w.log.String(), 20))
	}
	if err := b.recordProcess(ctx); err != nil {
		return err
	}
	loadAfter := loadAverage()
	w.stop() // so that the store benchmarks do not compete with it
	fs := fsType(dataDir)

	progress("store Go benchmarks (-benchtime %s)", sz.storeBenchtime)
	store := runStoreBench(ctx, root, sz.storeBenchtime)
	if ctx.Err() != nil {
		return ctx.Err()
	}

	rep := report{
		sizes:     sz,
		listeners: w.listeners,
		machine:   describeMachine(ctx, fs, loadBefore, loadAfter),
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
	progress("wrote %s in %s", out, time.Since(started).Round(time.Second))
	return nil
}

// bench is one run against one weftd.
type bench struct {
	sz   sizes
	w    *weftd
	res  *results
	pool []*client.Client // see clients
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
