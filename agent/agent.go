package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/weft-mesh/weft/agent/catalog"
	"github.com/weft-mesh/weft/agent/cgroups"
	"github.com/weft-mesh/weft/agent/network"
	"github.com/weft-mesh/weft/agent/runtime"
	"github.com/weft-mesh/weft/agent/volumes"
	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// ShimMain is the entry of the hidden "shim" subcommand (see the package
// documentation); args are what follows "shim". It returns the exit code.
func ShimMain(args []string) int { return runtime.ShimMain(args) }

// Agent is a running node agent.
type Agent struct {
	cfg    Config
	c      *client.Client
	log    *zap.Logger
	rt     *runtime.Runtime
	cat    *catalog.Catalog
	net    network.Network
	cg     *cgroups.Manager // nil when limits are off
	env    envBuilder
	lookup *apiLookup
	ctx    context.Context
	port   int // the agent server's port

	mu      sync.Mutex
	workers map[types.UID]*podWorker
	wg      sync.WaitGroup

	usage  usageTracker
	stats  statsCache
	events eventCounter
}

// Run runs the agent until ctx ends. Containers (and, in netns mode, the
// node's bridge and the pods' namespaces) keep running after it returns;
// the next Run with the same DataDir adopts them. With Config.ResetOnExit
// it removes them all instead.
func Run(ctx context.Context, cfg Config) (err error) {
	if err := cfg.defaults(); err != nil {
		return err
	}
	if cfg.ResetOnExit {
		defer func() {
			if rerr := Reset(cfg.DataDir, cfg.NodeName); rerr != nil {
				err = errors.Join(err, fmt.Errorf("agent: reset on exit: %w", rerr))
			}
		}()
	}
	a := &Agent{cfg: cfg, c: cfg.Client, log: cfg.Log.With(zap.String("node", cfg.NodeName)), ctx: ctx, workers: map[types.UID]*podWorker{}}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("agent: data dir: %w", err)
	}
	if a.rt, err = runtime.New(filepath.Join(cfg.DataDir, "pods"), cfg.ShimBinary); err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	if a.cat, err = catalog.Load(catalog.Options{File: cfg.Images, Dirs: cfg.BinDirs}); err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	stopNet, err := a.startNetwork(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return err
	}
	defer stopNet()
	if err := a.adoptPods(ctx); err != nil {
		a.log.Warn("adopt pods' networks", zap.Error(err))
	}
	if cfg.Cgroups == nil || *cfg.Cgroups {
		a.cg = cgroups.Detect("/sys/fs/cgroup", "weft/"+cfg.NodeName)
		if a.cg.Version() == cgroups.None {
			a.log.Warn("resource limits are not enforced", zap.String("reason", a.cg.Reason()))
		}
	}
	a.lookup = &apiLookup{a: a}
	a.env = envBuilder{lookup: a.lookup, allocatable: cfg.Capacity}

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("agent: listen on %s: %w", cfg.ListenAddr, err)
	}
	a.port = ln.Addr().(*net.TCPAddr).Port
	srv := &http.Server{Handler: newAuthn(a.c.ReviewToken).wrap(a.withProxyAdmin(a.handler())), ReadHeaderTimeout: 10 * time.Second, ErrorLog: zap.NewStdLog(a.log.Named("http"))}
	serveDone := make(chan struct{})
	go func() {
		defer close(serveDone)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("agent server", zap.Error(err))
		}
	}()
	defer func() {
		_ = srv.Close()
		<-serveDone
	}()

	if err := a.registerNode(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped before the API answered
		}
		return err
	}
	if err := a.ensureStorageClass(ctx); err != nil {
		a.log.Warn("default storage class", zap.Error(err))
	}
	a.log.Info("node registered", zap.String("server", fmt.Sprintf("%s:%d", cfg.NodeIP, a.port)))
	stopGateway := a.startGateway(ctx) // gateway.go; the proxy outlives the agent
	defer stopGateway()

	inf := client.NewInformer(a.c, api.LookupName("pods"), "", client.ListOptions{FieldSelector: "spec.nodeName=" + cfg.NodeName})
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if p, ok := obj.(*corev1.Pod); ok {
				a.podChanged(p)
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			o, _ := oldObj.(*corev1.Pod)
			n, ok := newObj.(*corev1.Pod)
			if !ok {
				return
			}
			if o != nil && o.UID != n.UID {
				a.podGone(o.UID)
			}
			a.podChanged(n)
		},
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if p, ok := obj.(*corev1.Pod); ok {
				a.podGone(p.UID)
			}
		},
	})
	infDone := make(chan struct{})
	infCtx, stopInf := context.WithCancel(ctx)
	go func() { defer close(infDone); inf.RunWithContext(infCtx) }()
	defer func() {
		stopInf()
		<-infDone
		a.wg.Wait()
	}()
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return nil
	}
	a.removeOrphans(inf.GetStore())

	heartbeat := time.NewTicker(cfg.HeartbeatPeriod)
	defer heartbeat.Stop()
	statsTick := time.NewTicker(cfg.StatsPeriod)
	defer statsTick.Stop()
	a.sampleStats()
	for {
		select {
		case <-ctx.Done():
			a.log.Info("agent stopping; containers keep running")
			return nil
		case <-heartbeat.C:
			if err := a.heartbeat(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("heartbeat failed", zap.Error(err))
			}
		case <-statsTick.C:
			a.sampleStats()
		}
	}
}

// podChanged hands the pod's latest spec to its worker, starting one.
func (a *Agent) podChanged(p *corev1.Pod) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ctx.Err() != nil {
		return
	}
	w, ok := a.workers[p.UID]
	if !ok {
		w = newPodWorker(a, p.UID)
		a.workers[p.UID] = w
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			w.run(a.ctx)
		}()
	}
	w.update(p)
}

// podGone tells the pod's worker the pod was deleted.
func (a *Agent) podGone(uid types.UID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if w, ok := a.workers[uid]; ok {
		w.update(nil)
	}
}

func (a *Agent) workerDone(uid types.UID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.workers, uid)
}

func (a *Agent) worker(uid types.UID) *podWorker {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.workers[uid]
}

// removeOrphans stops and removes pods on disk that the API no longer has
// for this node (deleted while the agent was down).
func (a *Agent) removeOrphans(store cache.Store) {
	known := map[string]bool{}
	for _, obj := range store.List() {
		if p, ok := obj.(*corev1.Pod); ok {
			known[string(p.UID)] = true
		}
	}
	uids, err := a.rt.Pods()
	if err != nil {
		a.log.Warn("list pods on disk", zap.Error(err))
		return
	}
	for _, uid := range uids {
		if known[uid] {
			continue
		}
		a.log.Info("removing a pod deleted while the agent was down", zap.String("uid", uid))
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			w := newPodWorker(a, types.UID(uid))
			w.terminate(a.ctx, 2*time.Second, nil)
			w.cleanup(a.ctx)
		}()
	}
}

// apiLookup reads config maps and secrets through the API for volumes and
// the environment, and resolves claims through the local-path provisioner.
type apiLookup struct{ a *Agent }

func (l *apiLookup) ConfigMap(ctx context.Context, ns, name string) (*corev1.ConfigMap, error) {
	obj, err := l.a.c.Get(ctx, api.LookupName("configmaps"), ns, name)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("configmap %q %w", name, volumes.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("configmap %q: %w", name, err)
	}
	return obj.(*corev1.ConfigMap), nil
}

func (l *apiLookup) Secret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	obj, err := l.a.c.Get(ctx, api.LookupName("secrets"), ns, name)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("secret %q %w", name, volumes.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("secret %q: %w", name, err)
	}
	return obj.(*corev1.Secret), nil
}

func (l *apiLookup) ClaimPath(ctx context.Context, pod *corev1.Pod, claim string) (string, error) {
	return l.a.claimPath(ctx, pod, claim)
}

// event records a Kubernetes Event about a pod (best effort).
func (a *Agent) event(pod *corev1.Pod, typ, reason, msg string) {
	if pod == nil {
		return
	}
	now := metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: pod.Name + "." + strconv.FormatInt(time.Now().UnixNano(), 16), Namespace: pod.Namespace},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, APIVersion: "v1"},
		Reason:         reason, Message: msg, Type: typ, Count: 1,
		FirstTimestamp: now, LastTimestamp: now,
		Source:              corev1.EventSource{Component: "kubelet", Host: a.cfg.NodeName},
		ReportingController: "weft.io/agent", ReportingInstance: a.cfg.NodeName,
	}
	ctx, cancel := context.WithTimeout(a.ctx, 5*time.Second)
	defer cancel()
	if err := a.events.write(ctx, a.c, ev); err != nil && a.ctx.Err() == nil {
		a.log.Debug("record event", zap.Error(err))
	}
}
