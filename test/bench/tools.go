package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// debianTools are the programs the comparisons run, by the Debian package
// that has them. ensureTools installs the missing ones.
var debianTools = []struct{ command, pkg string }{
	{"nginx", "nginx"},
	{"haproxy", "haproxy"},
	{"wrk", "wrk"},
	{"hey", "hey"},
	{"dig", "bind9-dnsutils"},
}

// ensureTools installs, with apt-get, the Debian packages of the tools
// that are not on $PATH (as root, which the project's machines are). It
// returns the version line of each tool for the report; a tool that could
// not be installed is reported by the comparison that needs it.
func ensureTools(ctx context.Context) map[string]string {
	var missing []string
	for _, t := range debianTools {
		if _, err := exec.LookPath(t.command); err != nil {
			missing = append(missing, t.pkg)
		}
	}
	if len(missing) > 0 {
		progress("installing %s (apt-get)", strings.Join(missing, ", "))
		env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		up := exec.CommandContext(ctx, "apt-get", "update", "-qq")
		up.Env = env
		if out, err := up.CombinedOutput(); err != nil {
			progress("apt-get update: %v\n%s", err, tail(string(out), 5))
		}
		inst := exec.CommandContext(ctx, "apt-get", append([]string{"install", "-y", "-qq", "--no-install-recommends"}, missing...)...)
		inst.Env = env
		if out, err := inst.CombinedOutput(); err != nil {
			progress("apt-get install: %v\n%s", err, tail(string(out), 5))
		}
		// Debian starts the daemons it installs where it can; the harness
		// runs its own, on ports of its own, and leaves those alone.
	}
	versions := map[string]string{}
	for _, v := range []struct{ tool, flag string }{{"nginx", "-v"}, {"haproxy", "-v"}, {"wrk", "-v"}} {
		out, _ := exec.CommandContext(ctx, v.tool, v.flag).CombinedOutput()
		versions[v.tool] = firstLine(string(out))
	}
	return versions
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(line)
}

// buildBinaries builds the module's commands into dir (no -race: the
// figures are for the binaries users run), one go build for all.
func buildBinaries(ctx context.Context, root, dir string, pkgs ...string) error {
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-o", dir + "/"}, pkgs...)...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", strings.Join(pkgs, " "), err, out)
	}
	return nil
}

// corednsVersion is the CoreDNS release the DNS comparison builds.
const corednsVersion = "v1.15.0"

// corednsMain is the main package of a CoreDNS build: its own
// coremain.Run with every plugin of its plugin.cfg.
const corednsMain = `package main

import (
	_ "github.com/coredns/coredns/core/plugin"
	"github.com/coredns/coredns/coremain"
)

func main() { coremain.Run() }
`

// buildCoreDNS builds CoreDNS from the Go module proxy in a module of its
// own under the user's cache directory (never in weft's go.mod), once per
// version: later runs reuse the binary. With build false it only looks for
// a binary built before.
func buildCoreDNS(ctx context.Context, build bool) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "weft-bench", "coredns-"+corednsVersion)
	bin := filepath.Join(dir, "coredns")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if !build {
		return "", fmt.Errorf("not built yet (a full run builds it)")
	}
	progress("building CoreDNS %s from the Go module proxy in %s (once; later runs reuse it)", corednsVersion, dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(corednsMain), 0o644); err != nil {
		return "", err
	}
	steps := [][]string{
		{"mod", "init", "weft-bench/coredns"},
		{"get", "github.com/coredns/coredns@" + corednsVersion},
		{"build", "-o", bin, "."},
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		steps = steps[1:]
	}
	for _, args := range steps {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, tail(string(out), 15))
		}
	}
	return bin, nil
}

// wrkResult is what one wrk run reports.
type wrkResult struct {
	requests int64
	seconds  float64
	rate     float64 // Requests/sec
	non2xx   int64
	errors   int64 // socket errors: connect, read, write, timeout
}

var (
	wrkTotal  = regexp.MustCompile(`(\d+) requests in ([\d.]+)(us|ms|s|m)`)
	wrkRate   = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkNon2xx = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSocket = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads wrk's summary.
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	m := wrkTotal.FindStringSubmatch(out)
	rm := wrkRate.FindStringSubmatch(out)
	if m == nil || rm == nil {
		return r, fmt.Errorf("unexpected wrk output:\n%s", tail(out, 10))
	}
	r.requests, _ = strconv.ParseInt(m[1], 10, 64)
	d, _ := strconv.ParseFloat(m[2], 64)
	r.seconds = d * map[string]float64{"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60}[m[3]]
	r.rate, _ = strconv.ParseFloat(rm[1], 64)
	if n := wrkNon2xx.FindStringSubmatch(out); n != nil {
		r.non2xx, _ = strconv.ParseInt(n[1], 10, 64)
	}
	if s := wrkSocket.FindStringSubmatch(out); s != nil {
		for _, x := range s[1:] {
			n, _ := strconv.ParseInt(x, 10, 64)
			r.errors += n
		}
	}
	return r, nil
}

// wrkArgs is the wrk command line of one run: two threads (one per core
// of the machines the figures are for), conns connections, host as the
// Host header.
func wrkArgs(conns int, d time.Duration, host, url string) []string {
	return []string{"-t2", fmt.Sprintf("-c%d", conns), fmt.Sprintf("-d%ds", int(d.Seconds())), "-H", "Host: " + host, url}
}

// runWrk runs wrk against url and fails on any error or non-2xx answer.
func runWrk(ctx context.Context, conns int, d time.Duration, host, url string) (wrkResult, error) {
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "wrk", wrkArgs(conns, d, host, url)...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	r, err := parseWrk(string(out))
	if err != nil {
		return r, err
	}
	if r.non2xx > 0 || r.errors > 0 {
		return r, fmt.Errorf("wrk %s: %d non-2xx answers, %d socket errors of %d requests", url, r.non2xx, r.errors, r.requests)
	}
	return r, nil
}
