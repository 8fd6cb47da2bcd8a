package ipam

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/controlplane/store"
)

// Where allocation records live in the store.
const (
	IPPrefix   = "/weft/ipam/serviceips/"
	PortPrefix = "/weft/ipam/nodeports/"
)

// DefaultServiceCIDR is kube-apiserver's default --service-cluster-ip-range.
const DefaultServiceCIDR = "10.96.0.0/12"

// ErrRangeFull means every IP (or port) of the range is allocated.
var ErrRangeFull = errors.New("range is full")

// Config configures an Allocator.
type Config struct {
	// Store holds the allocation records (the API server's store).
	Store store.Store
	// ServiceCIDR is the IPv4 range ClusterIPs come from (weftd's
	// --service-cidr; DefaultServiceCIDR when empty).
	ServiceCIDR string
	// NodePorts is the node port range (api.NodePortRange when zero).
	NodePorts api.PortRange
	Log       *zap.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Grace: an allocation record touched this recently is never released
	// (an allocation on its way into the store). Default 30s.
	Grace time.Duration
	// RepairInterval is how often Run repairs the records (default 1m).
	RepairInterval time.Duration
}

// Allocator is the ClusterIP and NodePort allocator; it is the
// apiserver.AdmissionPlugin "ServiceAllocation".
type Allocator struct {
	cfg    Config
	prefix netip.Prefix
	base   uint32
	ips    *bitmap
	ports  *bitmap
}

// record is what an allocation key holds: who has it, since when.
type record struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	Touched   time.Time `json:"touched"`
}

func (r record) owner() string { return r.Namespace + "/" + r.Name }

// New builds the allocator and loads the allocations from the store.
func New(ctx context.Context, cfg Config) (*Allocator, error) {
	if cfg.Store == nil {
		return nil, errors.New("ipam: no store")
	}
	if cfg.ServiceCIDR == "" {
		cfg.ServiceCIDR = DefaultServiceCIDR
	}
	if cfg.NodePorts == (api.PortRange{}) {
		cfg.NodePorts = api.NodePortRange
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 30 * time.Second
	}
	if cfg.RepairInterval <= 0 {
		cfg.RepairInterval = time.Minute
	}
	p, err := netip.ParsePrefix(cfg.ServiceCIDR)
	if err != nil {
		return nil, fmt.Errorf("service CIDR %q: %w", cfg.ServiceCIDR, err)
	}
	p = p.Masked()
	if !p.Addr().Is4() {
		return nil, fmt.Errorf("service CIDR %q: only IPv4 service ranges are supported", cfg.ServiceCIDR)
	}
	if p.Bits() > 30 || p.Bits() < 8 {
		return nil, fmt.Errorf("service CIDR %q: the prefix length must be between /8 and /30", cfg.ServiceCIDR)
	}
	if cfg.NodePorts.Min <= 0 || cfg.NodePorts.Max < cfg.NodePorts.Min || cfg.NodePorts.Max > 65535 {
		return nil, fmt.Errorf("node port range %s is not a range of ports", cfg.NodePorts)
	}
	size := 1 << (32 - p.Bits())
	a := &Allocator{cfg: cfg, prefix: p, base: ipToUint(p.Addr())}
	a.ips = newBitmap(size, func(off int) bool { return off == 0 || off == size-1 }) // network and broadcast
	a.ports = newBitmap(int(cfg.NodePorts.Max-cfg.NodePorts.Min+1), nil)
	if err := a.reload(ctx, nil); err != nil {
		return nil, err
	}
	return a, nil
}

// Name implements apiserver.AdmissionPlugin.
func (a *Allocator) Name() string { return "ServiceAllocation" }

// ServiceCIDR is the range ClusterIPs come from.
func (a *Allocator) ServiceCIDR() netip.Prefix { return a.prefix }

func ipToUint(ip netip.Addr) uint32 {
	b := ip.As4()
	return binary.BigEndian.Uint32(b[:])
}

func uintToIP(v uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

// ipOffset is the IP's offset in the range, or -1 when it is outside.
func (a *Allocator) ipOffset(ip netip.Addr) int {
	if !ip.Is4() || !a.prefix.Contains(ip) {
		return -1
	}
	return int(ipToUint(ip) - a.base)
}

func (a *Allocator) portOffset(port int32) int {
	if !a.cfg.NodePorts.Contains(port) {
		return -1
	}
	return int(port - a.cfg.NodePorts.Min)
}

// Admit implements apiserver.AdmissionPlugin: it allocates a Service's
// ClusterIP and node ports, or claims the ones it asks for.
func (a *Allocator) Admit(ctx context.Context, obj, old api.Object) ([]string, error) {
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return nil, nil
	}
	var prev *corev1.Service
	if o, ok := old.(*corev1.Service); ok {
		prev = o
	}
	owner := record{Namespace: svc.Namespace, Name: svc.Name}
	var errs field.ErrorList
	if svc.Spec.Type != corev1.ServiceTypeExternalName {
		e, err := a.admitClusterIP(ctx, svc, prev, owner)
		if err != nil {
			return nil, err
		}
		errs = append(errs, e...)
	}
	e, err := a.admitNodePorts(ctx, svc, prev, owner)
	if err != nil {
		return nil, err
	}
	errs = append(errs, e...)
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(schema.GroupKind{Kind: "Service"}, svc.Name, errs)
	}
	return nil, nil
}

func (a *Allocator) admitClusterIP(ctx context.Context, svc, prev *corev1.Service, owner record) (field.ErrorList, error) {
	spec := &svc.Spec
	ipsPath := field.NewPath("spec", "clusterIPs")
	// An update that leaves the IP out keeps the allocated one (as the
	// upstream registry does).
	if prev != nil && prev.Spec.Type != corev1.ServiceTypeExternalName && spec.ClusterIP == "" && len(spec.ClusterIPs) == 0 {
		spec.ClusterIP, spec.ClusterIPs = prev.Spec.ClusterIP, append([]string(nil), prev.Spec.ClusterIPs...)
		if len(spec.IPFamilies) == 0 {
			spec.IPFamilies = append([]corev1.IPFamily(nil), prev.Spec.IPFamilies...)
		}
	}
	ip := spec.ClusterIP
	if ip == "" && len(spec.ClusterIPs) > 0 {
		ip = spec.ClusterIPs[0]
	}
	if ip == corev1.ClusterIPNone {
		return nil, nil
	}
	if prev != nil && prev.Spec.Type != corev1.ServiceTypeExternalName && prev.Spec.ClusterIP != "" && prev.Spec.ClusterIP == ip {
		return nil, nil // unchanged (and immutable: validation checks)
	}
	if len(spec.ClusterIPs) > 1 {
		return field.ErrorList{field.Invalid(ipsPath, spec.ClusterIPs,
			fmt.Sprintf("dual-stack Services are not supported: the service CIDR %s is single-stack", a.prefix))}, nil
	}
	if ip == "" {
		addr, err := a.allocateIP(ctx, owner)
		if errors.Is(err, ErrRangeFull) {
			return field.ErrorList{field.InternalError(ipsPath, fmt.Errorf("failed to allocate a serviceIP: %w", err))}, nil
		}
		if err != nil {
			return nil, err
		}
		ip = addr.String()
	} else {
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return nil, nil // validation says what is wrong with it
		}
		if a.ipOffset(addr) < 0 || addr == a.prefix.Addr() || addr == uintToIP(a.base+uint32(a.ips.size-1)) {
			return field.ErrorList{field.Invalid(ipsPath, []string{ip}, fmt.Sprintf(
				"failed to allocate IP %s: the provided IP (%s) is not in the valid range. The range of valid IPs is %s", ip, ip, a.prefix))}, nil
		}
		held, err := a.claim(ctx, IPPrefix+addr.String(), owner)
		if err != nil {
			return nil, err
		}
		a.ips.set(a.ipOffset(addr), true)
		if !held {
			return field.ErrorList{field.Invalid(ipsPath, []string{ip}, fmt.Sprintf("failed to allocate IP %s: provided IP is already allocated", ip))}, nil
		}
	}
	spec.ClusterIP, spec.ClusterIPs = ip, []string{ip}
	if len(spec.IPFamilies) == 0 {
		spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
	}
	return nil, nil
}

// needsNodePorts: NodePort Services, and LoadBalancers unless they opt out.
func needsNodePorts(svc *corev1.Service) bool {
	switch svc.Spec.Type {
	case corev1.ServiceTypeNodePort:
		return true
	case corev1.ServiceTypeLoadBalancer:
		return svc.Spec.AllocateLoadBalancerNodePorts == nil || *svc.Spec.AllocateLoadBalancerNodePorts
	}
	return false
}

func protoOrTCP(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

func (a *Allocator) admitNodePorts(ctx context.Context, svc, prev *corev1.Service, owner record) (field.ErrorList, error) {
	prevPorts := map[int32]bool{}
	if prev != nil {
		for _, p := range prev.Spec.Ports {
			if p.NodePort != 0 {
				prevPorts[p.NodePort] = true
			}
		}
		if prev.Spec.HealthCheckNodePort != 0 {
			prevPorts[prev.Spec.HealthCheckNodePort] = true
		}
	}
	if !needsNodePorts(svc) {
		// Leaving NodePort: drop the node ports the old type had, as
		// upstream does for fields the new type cannot have.
		for i := range svc.Spec.Ports {
			if p := &svc.Spec.Ports[i]; prevPorts[p.NodePort] && svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
				p.NodePort = 0
			}
		}
		return nil, nil
	}
	var errs field.ErrorList
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		path := field.NewPath("spec", "ports").Index(i).Child("nodePort")
		if p.NodePort == 0 && prev != nil {
			for _, op := range prev.Spec.Ports {
				if op.NodePort != 0 && op.Port == p.Port && protoOrTCP(op.Protocol) == protoOrTCP(p.Protocol) {
					p.NodePort = op.NodePort
				}
			}
		}
		e, err := a.admitPort(ctx, &p.NodePort, prevPorts, owner, path)
		if err != nil {
			return nil, err
		}
		errs = append(errs, e...)
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
		if svc.Spec.HealthCheckNodePort == 0 && prev != nil {
			svc.Spec.HealthCheckNodePort = prev.Spec.HealthCheckNodePort
		}
		e, err := a.admitPort(ctx, &svc.Spec.HealthCheckNodePort, prevPorts, owner, field.NewPath("spec", "healthCheckNodePort"))
		if err != nil {
			return nil, err
		}
		errs = append(errs, e...)
	}
	return errs, nil
}

// admitPort allocates *port when 0, else claims it unless the Service
// already held it.
func (a *Allocator) admitPort(ctx context.Context, port *int32, held map[int32]bool, owner record, path *field.Path) (field.ErrorList, error) {
	if *port != 0 && held[*port] {
		return nil, nil
	}
	if *port == 0 {
		n, err := a.allocatePort(ctx, owner)
		if errors.Is(err, ErrRangeFull) {
			return field.ErrorList{field.InternalError(path, fmt.Errorf("failed to allocate a nodePort: %w", err))}, nil
		}
		if err != nil {
			return nil, err
		}
		*port = n
		return nil, nil
	}
	off := a.portOffset(*port)
	if off < 0 {
		return field.ErrorList{field.Invalid(path, *port, "provided port is not in the valid range. The range of valid ports is "+a.cfg.NodePorts.String())}, nil
	}
	ok, err := a.claim(ctx, PortPrefix+strconv.Itoa(int(*port)), owner)
	if err != nil {
		return nil, err
	}
	a.ports.set(off, true)
	if !ok {
		return field.ErrorList{field.Invalid(path, *port, "provided port is already allocated")}, nil
	}
	return nil, nil
}

// claim takes key for owner: creates the record, or finds it already the
// owner's (a retried or re-run admission; a Service re-created under the
// same name) and touches it. It reports false when someone else holds it.
func (a *Allocator) claim(ctx context.Context, key string, owner record) (bool, error) {
	owner.Touched = a.cfg.Now().UTC()
	b, _ := json.Marshal(owner)
	for attempt := 0; attempt < 3; attempt++ {
		_, err := a.cfg.Store.Create(ctx, key, b)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, store.ErrExists) {
			return false, fmt.Errorf("allocate %s: %w", strings.TrimPrefix(key, "/weft/ipam/"), err)
		}
		kv, err := a.cfg.Store.Get(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			continue // released meanwhile: try again
		}
		if err != nil {
			return false, fmt.Errorf("read allocation %s: %w", key, err)
		}
		var cur record
		if json.Unmarshal(kv.Value, &cur) != nil || cur.owner() != owner.owner() {
			return false, nil
		}
		if _, err := a.cfg.Store.Update(ctx, key, b, kv.ModRevision); err == nil {
			return true, nil
		} else if !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
			return false, fmt.Errorf("touch allocation %s: %w", key, err)
		}
	}
	return false, fmt.Errorf("allocate %s: %w", key, store.ErrConflict)
}

func (a *Allocator) allocateIP(ctx context.Context, owner record) (netip.Addr, error) {
	var got netip.Addr
	ok, err := a.ips.free(func(off int) (bool, error) {
		ip := uintToIP(a.base + uint32(off))
		held, err := a.claimNew(ctx, IPPrefix+ip.String(), owner)
		if held {
			got = ip
		}
		return held, err
	})
	if err != nil {
		return netip.Addr{}, err
	}
	if !ok {
		return netip.Addr{}, ErrRangeFull
	}
	return got, nil
}

func (a *Allocator) allocatePort(ctx context.Context, owner record) (int32, error) {
	var got int32
	ok, err := a.ports.free(func(off int) (bool, error) {
		port := a.cfg.NodePorts.Min + int32(off)
		held, err := a.claimNew(ctx, PortPrefix+strconv.Itoa(int(port)), owner)
		if held {
			got = port
		}
		return held, err
	})
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, ErrRangeFull
	}
	return got, nil
}

// claimNew creates a record for a free-looking value; false when the
// store says someone has it (another weftd, or a stale bitmap).
func (a *Allocator) claimNew(ctx context.Context, key string, owner record) (bool, error) {
	owner.Touched = a.cfg.Now().UTC()
	b, _ := json.Marshal(owner)
	_, err := a.cfg.Store.Create(ctx, key, b)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrExists):
		return false, nil
	}
	return false, fmt.Errorf("allocate %s: %w", strings.TrimPrefix(key, "/weft/ipam/"), err)
}
