package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/weft-mesh/weft/agent/lifecycle"
	"github.com/weft-mesh/weft/agent/runtime"
)

// The node gateway (DESIGN.md, "Reaching services from outside the mesh"):
// each agent runs one weft-proxy in gateway mode for its node, the
// kube-proxy role. It is fed by xDS like any sidecar, with node id
//
//	router~<nodeIP>~<node>.weft-system~weft-system.svc.cluster.local
//
// which the control plane answers with one listener <nodeIP>_<nodePort>
// per port of every NodePort and LoadBalancer service (tcp_proxy to the
// service's outbound cluster), so `curl http://<nodeIP>:<nodePort>` reaches
// the service's pods from outside the mesh.
//
// The proxy runs through the same shim runtime as pods, under its own root
// (DataDir/gateway), as container "weft-proxy" of the pseudo-pod
// "node-gateway": its output is in that runtime's log files, and, like a
// pod's containers, it outlives the agent — node ports keep answering
// while the agent restarts — and the next agent adopts it (restarting it
// only if its command line changed, e.g. weftd's xDS address). Reset
// kills it. The agent restarts it when it ends, with a back-off of 1s
// doubling up to 30s (the first restart is immediate).
//
// It is in the host's network in both pod network modes and binds its
// listeners on the node IP. Its admin, stats and readiness ports bind the
// node IP at free ports (":0"): nodes sharing a machine — and test
// clusters sharing a node IP — never collide on them.
//
// The agent also gives every LoadBalancer service the node's IP in
// status.loadBalancer.ingress (as k3s' service load balancer does, one
// entry per node); it removes its IP when the service stops being a
// LoadBalancer. A node that goes away leaves its entry behind: removing
// it is the node controller's job.

// Names of the gateway in its runtime.
const (
	gatewayUID       = "node-gateway"
	gatewayContainer = "weft-proxy"
	gatewayImage     = "weft/proxy"
	// GatewayNamespace is the namespace in the gateway's node id.
	GatewayNamespace = "weft-system"
	// gatewayDir is the gateway runtime's root in the data directory.
	gatewayDir = "gateway"
)

// gatewayBackoff is the gateway's restart back-off: short, because node
// ports are down while it waits.
var gatewayBackoff = lifecycle.Policy{Initial: time.Second, Max: 30 * time.Second, Reset: 5 * time.Minute}

// GatewayNodeID is the xDS node id of a node's gateway. Dots in the node
// name become dashes: the id's third field is <name>.<namespace>.
func GatewayNodeID(nodeName, nodeIP string) string {
	return fmt.Sprintf("router~%s~%s.%s~%s.svc.cluster.local", nodeIP, strings.ReplaceAll(nodeName, ".", "-"), GatewayNamespace, GatewayNamespace)
}

// gatewayArgs is the gateway's command line after the program.
func gatewayArgs(nodeName, nodeIP, xdsAddr string) []string {
	free := net.JoinHostPort(nodeIP, "0")
	return []string{
		"--mode=gateway",
		"--network=host",
		"--xds-addr=" + xdsAddr,
		"--pod-ip=" + nodeIP,
		"--node-id=" + GatewayNodeID(nodeName, nodeIP),
		"--admin-addr=" + free,
		"--stats-addr=" + free,
		"--ready-addr=" + free,
		"--access-log=stdout",
	}
}

// gatewayPlan is what the supervisor does in one round.
type gatewayPlan struct {
	// Stop the running proxy (its command line changed) before Start.
	Stop bool
	// Start run number Attempt.
	Start   bool
	Attempt int
	// Backoff is the back-off to remember after this round.
	Backoff lifecycle.Backoff
	// Wake, when not zero, is when a waiting restart is due.
	Wake time.Time
}

// decideGateway is the supervisor's pure core: given the wanted command
// line, the latest run (nil when none) and the remembered back-off, what
// to do now.
func decideGateway(want []string, o *runtime.Observed, b lifecycle.Backoff, pol lifecycle.Policy, now time.Time) gatewayPlan {
	p := gatewayPlan{Backoff: b}
	if !b.LastUpdate.IsZero() && now.Sub(b.LastUpdate) > pol.Reset {
		p.Backoff = lifecycle.Backoff{}
	}
	switch {
	case o == nil:
		p.Start, p.Attempt = true, 0
		return p
	case o.Running() && slices.Equal(o.Spec.Args, want):
		return p
	case o.Running():
		// A new command line: replace the proxy at once.
		p.Stop, p.Start, p.Attempt = true, true, o.Attempt+1
		p.Backoff = lifecycle.Backoff{}
		return p
	case o.Exit == nil:
		// Started, state not written yet: look again.
		p.Wake = now.Add(100 * time.Millisecond)
		return p
	case !slices.Equal(o.Spec.Args, want):
		p.Start, p.Attempt = true, o.Attempt+1
		p.Backoff = lifecycle.Backoff{}
		return p
	}
	// Ended: the first restart is immediate, later ones wait the delay
	// after the end, doubling up to Max.
	if p.Backoff.LastUpdate.IsZero() {
		p.Start, p.Attempt = true, o.Attempt+1
		p.Backoff = lifecycle.Backoff{Delay: pol.Initial, LastUpdate: now}
		return p
	}
	if due := o.Exit.FinishedAt.Add(p.Backoff.Delay); now.Before(due) {
		p.Wake = due
		return p
	}
	p.Start, p.Attempt = true, o.Attempt+1
	p.Backoff = lifecycle.Backoff{Delay: min(2*p.Backoff.Delay, pol.Max), LastUpdate: now}
	return p
}

// gateway supervises the node's gateway proxy.
type gateway struct {
	a   *Agent
	rt  *runtime.Runtime
	log *zap.Logger

	backoff lifecycle.Backoff
	lastErr string // the last reason it could not start, logged once
}

// startGateway supervises the node gateway and keeps LoadBalancer
// services' ingress in a goroutine of its own until stop is called (or ctx
// ends). The proxy keeps running after stop, for the next agent to adopt.
func (a *Agent) startGateway(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	stop = func() { cancel(); wg.Wait() }
	rt, err := runtime.New(filepath.Join(a.cfg.DataDir, gatewayDir), a.cfg.ShimBinary)
	if err != nil {
		a.log.Error("node gateway: no runtime", zap.Error(err))
		return stop
	}
	g := &gateway{a: a, rt: rt, log: a.log.Named("gateway")}
	wg.Add(2)
	go func() { defer wg.Done(); g.run(ctx) }()
	go func() { defer wg.Done(); a.runLoadBalancerStatus(ctx) }()
	return stop
}

func (g *gateway) run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		next := g.a.cfg.SyncPeriod
		if wake := g.sync(ctx, time.Now()); !wake.IsZero() {
			next = min(next, max(time.Until(wake), 10*time.Millisecond))
		}
		timer.Reset(next)
	}
}

// want is the gateway's full argv, or why it cannot run.
func (g *gateway) want() ([]string, error) {
	if g.a.cfg.XDSAddr == "" {
		return nil, errors.New("no xDS address: node ports are not served")
	}
	argv, err := g.a.cat.Resolve(gatewayImage, nil, nil)
	if err != nil {
		return nil, err
	}
	if !filepath.IsAbs(argv[0]) {
		return nil, fmt.Errorf("%s not found in %s or $PATH: node ports are not served", argv[0], strings.Join(g.a.cfg.BinDirs, ", "))
	}
	return append(argv, gatewayArgs(g.a.cfg.NodeName, g.a.cfg.NodeIP, g.a.cfg.XDSAddr)...), nil
}

// sync is one round: observe, decide, act. It returns when to look again
// (zero: the usual period).
func (g *gateway) sync(ctx context.Context, now time.Time) time.Time {
	argv, err := g.want()
	if err != nil {
		if msg := err.Error(); msg != g.lastErr {
			g.log.Warn("node gateway not started", zap.Error(err))
			g.lastErr = msg
		}
		return time.Time{}
	}
	obs, err := g.rt.Observe(gatewayUID)
	if err != nil {
		g.log.Warn("observe node gateway", zap.Error(err))
		return time.Time{}
	}
	var cur *runtime.Observed
	if o, ok := obs[gatewayContainer]; ok {
		cur = &o
	}
	plan := decideGateway(argv, cur, g.backoff, gatewayBackoff, now)
	g.backoff = plan.Backoff
	if plan.Stop {
		g.log.Info("node gateway's command line changed: restarting it")
		if err := g.rt.Stop(ctx, gatewayUID, gatewayContainer, 10*time.Second); err != nil {
			g.log.Warn("stop node gateway", zap.Error(err))
			return time.Time{}
		}
	}
	if !plan.Start {
		return plan.Wake
	}
	if cur != nil && cur.Exit != nil && !plan.Stop {
		g.log.Warn("node gateway ended: restarting it", zap.Int("exitCode", cur.Exit.ExitCode), zap.String("reason", cur.Exit.Reason), zap.String("message", cur.Exit.Message))
	}
	spec := runtime.Spec{Args: argv, Env: []string{"PATH=" + os.Getenv("PATH")}}
	if err := g.rt.Start(ctx, gatewayUID, gatewayContainer, plan.Attempt, spec); err != nil {
		if ctx.Err() == nil {
			g.log.Warn("start node gateway", zap.Error(err))
		}
		return time.Time{}
	}
	g.lastErr = ""
	g.prune(plan.Attempt)
	g.log.Info("node gateway started", zap.Int("run", plan.Attempt), zap.String("nodeID", GatewayNodeID(g.a.cfg.NodeName, g.a.cfg.NodeIP)))
	return time.Time{}
}

// prune removes the files of runs before the previous one (the runtime
// reads the latest two).
func (g *gateway) prune(latest int) {
	for n := latest - 2; n >= 0; n-- {
		dir := g.rt.AttemptDir(gatewayUID, gatewayContainer, n)
		if _, err := os.Stat(dir); err != nil {
			return
		}
		_ = os.RemoveAll(dir)
	}
}

// resetGateway kills the node gateway of dataDir and removes its files.
func resetGateway(dataDir string) error {
	if err := runtime.KillAll(filepath.Join(dataDir, gatewayDir)); err != nil {
		return fmt.Errorf("reset node gateway: %w", err)
	}
	return nil
}
