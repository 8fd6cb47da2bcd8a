package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/weft-mesh/weft/client"
)

// listenFlags returns the flags of bin that take a listen address ("-api-addr",
// "-dns-addr", ...), read from its -h output, so that every listener weftd
// has, now or later, can be put on 127.0.0.1:0 instead of a fixed port that
// another weftd on the machine may hold.
func listenFlags(ctx context.Context, bin string) ([]string, error) {
	out, _ := exec.CommandContext(ctx, bin, "-h").CombinedOutput() // the flag package exits 2 after -h
	flags := parseAddrFlags(string(out))
	if !slices.Contains(flags, "api-addr") {
		return nil, fmt.Errorf("%s -h lists no -api-addr flag:\n%s", bin, out)
	}
	return flags, nil
}

// parseAddrFlags picks the names of flags ending in -addr from the flag
// package's usage text ("  -dns-addr string").
func parseAddrFlags(usage string) []string {
	var out []string
	for line := range strings.Lines(usage) {
		f := strings.Fields(line)
		if len(f) > 0 && strings.HasPrefix(f[0], "-") && strings.HasSuffix(f[0], "-addr") {
			out = append(out, strings.TrimLeft(f[0], "-"))
		}
	}
	return out
}

// weftd is a running weftd process.
type weftd struct {
	cmd       *exec.Cmd
	listeners []string // its -*-addr flags, all given 127.0.0.1:0
	dataDir   string
	url       string
	token     string
	log       *lockedBuffer // its stderr (zap's JSON lines)
	exited    chan struct{}
}

// startWeftd starts bin with dataDir and every listener (see listenFlags)
// on 127.0.0.1:0, and waits until it serves. HOME points into dataDir so
// that weftd never writes the user's ~/.weft/config. The process is killed
// if the harness dies (see setDeathSignal); stop ends it on every ordinary
// exit path.
func startWeftd(ctx context.Context, bin, dataDir string, extra ...string) (*weftd, error) {
	listeners, err := listenFlags(ctx, bin)
	if err != nil {
		return nil, err
	}
	args := []string{"--data-dir", dataDir}
	for _, name := range listeners {
		args = append(args, "--"+name, "127.0.0.1:0")
	}
	args = append(args, extra...)
	w := &weftd{listeners: listeners, dataDir: dataDir, log: &lockedBuffer{}, exited: make(chan struct{})}
	w.cmd = exec.Command(bin, args...)
	w.cmd.Env = append(os.Environ(), "HOME="+dataDir)
	w.cmd.Stderr = w.log
	setDeathSignal(w.cmd)
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := w.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start weftd: %w", err)
	}
	ready := make(chan string, 1)
	go func() { // ends when weftd closes its stdout, i.e. exits
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "weftd ready: API on "); ok {
				ready <- strings.TrimSuffix(strings.Fields(rest)[0], ";")
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { _ = w.cmd.Wait(); close(w.exited) }()

	select {
	case w.url = <-ready:
	case <-w.exited:
		return nil, fmt.Errorf("weftd exited before it was ready:\n%s", w.log)
	case <-ctx.Done():
		w.stop()
		return nil, fmt.Errorf("weftd not ready: %w", ctx.Err())
	case <-time.After(60 * time.Second):
		w.stop()
		return nil, fmt.Errorf("weftd not ready after 60s:\n%s", w.log)
	}
	cfg, err := client.LoadConfig(filepath.Join(dataDir, "weftctl.yaml"), false)
	if err != nil {
		w.stop()
		return nil, err
	}
	if cfg.Server != w.url || cfg.Token == "" {
		w.stop()
		return nil, fmt.Errorf("client config says server %q (token set: %t), weftd printed %q", cfg.Server, cfg.Token != "", w.url)
	}
	w.token = cfg.Token
	return w, nil
}

// client returns a new client with its own connections, as a separate
// program would have.
func (w *weftd) client() *client.Client {
	c, err := client.New(w.url, w.token)
	if err != nil {
		panic(err) // w.url came from weftd itself
	}
	return c
}

// stop sends SIGTERM, waits up to 10 s for a clean exit, then kills.
// It is safe to call more than once.
func (w *weftd) stop() {
	select {
	case <-w.exited:
		return
	default:
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(10 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.exited
	}
}

// memory returns weftd's resident set size and its peak (VmRSS and VmHWM
// of /proc/<pid>/status) in bytes.
func (w *weftd) memory() (rss, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", w.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	return parseStatusKB(b, "VmRSS:") * 1024, parseStatusKB(b, "VmHWM:") * 1024, nil
}

// parseStatusKB reads a "Name:   1234 kB" line of /proc/<pid>/status; 0 if absent.
func parseStatusKB(status []byte, name string) int64 {
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, name); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// cpu returns the CPU time weftd has used (user and system), from
// /proc/<pid>/stat in clock ticks of 1/100 s (Linux's USER_HZ).
func (w *weftd) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", w.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime, fields 14 and 15 of /proc/<pid>/stat
// (counted after the command name, which may hold spaces).
func parseStatCPU(stat []byte) (time.Duration, error) {
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+1:]) // f[0] is field 3
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/<pid>/stat: %.80q", s)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/<pid>/stat: %w", err)
	}
	return time.Duration(utime+stime) * (time.Second / 100), nil
}

// selfCPU is the CPU time the harness has used: the load generator's cost.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter measures the CPU time weftd and the harness use between start
// and stop.
type cpuMeter struct {
	w           *weftd
	weftd, self time.Duration
}

func (w *weftd) startCPU() (*cpuMeter, error) {
	c, err := w.cpu()
	return &cpuMeter{w: w, weftd: c, self: selfCPU()}, err
}

// stop returns the CPU time used since start by weftd and by the harness.
func (m *cpuMeter) stop() (weftd, self time.Duration, err error) {
	c, err := m.w.cpu()
	return c - m.weftd, selfCPU() - m.self, err
}

// commits returns how many read-write transactions weftd's store has
// committed, from the bbolt file's meta pages (see boltTxid). Each one is a
// group commit ending in fdatasync, so the writes acknowledged between two
// readings divided by the commits between them is the writes per fsync.
func (w *weftd) commits() (int64, error) {
	f, err := os.Open(filepath.Join(w.dataDir, "weft.db"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return boltTxid(f)
}

// Offsets in a bbolt (v1.3–1.5) meta page: a 16-byte page header, then
// magic, version, pageSize, flags (4 bytes each), the root bucket (16),
// freelist, pgid, txid and checksum (8 each). The checksum is FNV-64a of the
// 56 bytes of meta before it.
const (
	boltMagic      = 0xED0CDAED
	boltMetaOffset = 16
)

// boltTxid reads the highest valid transaction id of a bbolt file's two
// meta pages, without opening it with bbolt (which would wait for weftd's
// lock). bbolt alternates the meta page it writes, so the newer of the two
// valid pages is the current one.
func boltTxid(r io.ReaderAt) (int64, error) {
	var best int64 = -1
	pageSize := int64(0)
	for i := range 2 {
		page := make([]byte, boltMetaOffset+64)
		if _, err := r.ReadAt(page, int64(i)*pageSize); err != nil {
			return 0, fmt.Errorf("read bbolt meta page %d: %w", i, err)
		}
		txid, size, err := parseBoltMeta(page[boltMetaOffset:])
		if i == 0 {
			if err != nil {
				return 0, fmt.Errorf("bbolt meta page 0: %w", err)
			}
			pageSize = size
		}
		if err == nil && txid > best {
			best = txid
		}
	}
	return best, nil
}

var errBadMeta = errors.New("not a valid bbolt meta page")

// parseBoltMeta checks one meta (its 64 bytes) and returns its txid and page size.
func parseBoltMeta(m []byte) (txid, pageSize int64, err error) {
	le := binary.LittleEndian // bbolt writes native order; amd64 and arm64 are little-endian
	if len(m) < 64 || le.Uint32(m[0:]) != boltMagic {
		return 0, 0, errBadMeta
	}
	h := fnv.New64a()
	h.Write(m[:56])
	if h.Sum64() != le.Uint64(m[56:]) {
		return 0, 0, fmt.Errorf("%w: checksum", errBadMeta)
	}
	return int64(le.Uint64(m[48:])), int64(le.Uint32(m[8:])), nil
}

// lockedBuffer collects a process's output; safe to read while it writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 { // keep the log bounded: the last part is what matters
		l.b.Reset()
		l.b.WriteString("[earlier output dropped]\n")
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
