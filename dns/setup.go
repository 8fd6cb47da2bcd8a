package dns

import (
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"
)

// Server defaults.
const (
	DefaultAddr         = "127.0.0.1:10053"
	DefaultTTL          = 5 // seconds, as CoreDNS's kubernetes plugin
	DefaultQueryTimeout = 5 * time.Second
	DefaultMaxTCPConns  = 256
	// maxUDPSize caps the EDNS0 buffer size a client may ask for; larger
	// UDP answers are truncated (TC) and the client retries over TCP.
	maxUDPSize = 4096
	// advertisedUDPSize is the buffer size our responses' OPT advertises.
	advertisedUDPSize = 1232
)

// Config configures a Server. The zero value of each field means its
// default; weftd fills it from flags (--dns-addr, --dns-upstream, ...).
type Config struct {
	// Addr is the host:port to serve UDP and TCP on, DefaultAddr when
	// empty. Port 0 picks a free port, the same for both.
	Addr string
	// Zone is the cluster domain, DefaultZone when empty. Indexes handed
	// to SetIndex must be built for it.
	Zone string
	// TTL of cluster records in seconds, DefaultTTL when 0.
	TTL uint32
	// Upstreams are the resolvers other names are forwarded to: IP
	// addresses, optionally with a port ("10.0.0.2", "10.0.0.2:5353",
	// "[fd00::2]:53"). Empty means the nameservers of ResolvConfPath.
	Upstreams []string
	// ResolvConfPath is read for upstreams when Upstreams is empty,
	// DefaultResolvConf when empty.
	ResolvConfPath string
	// CacheSize is the number of forwarded answers kept, DefaultCacheSize
	// when 0; negative turns the cache off.
	CacheSize int
	// CacheMaxTTL and CacheMaxNegTTL cap how long positive and negative
	// (NXDOMAIN, NODATA) answers are cached: DefaultCacheMaxTTL and
	// DefaultCacheMaxNegTTL when 0.
	CacheMaxTTL    time.Duration
	CacheMaxNegTTL time.Duration
	// UpstreamTimeout bounds one attempt at one upstream,
	// DefaultUpstreamTimeout when 0.
	UpstreamTimeout time.Duration
	// MaxConcurrentForwards bounds the queries upstream at once; more are
	// refused. DefaultMaxForwards when 0.
	MaxConcurrentForwards int
	// QueryTimeout bounds the whole handling of one query,
	// DefaultQueryTimeout when 0.
	QueryTimeout time.Duration
	// MaxTCPConns bounds open TCP connections, DefaultMaxTCPConns when 0.
	MaxTCPConns int
	// Log receives per-query failures at debug level; nil logs nothing.
	Log *zap.Logger

	now      func() time.Time // clock of the cache; time.Now when nil
	exchange Exchanger        // upstream exchanges; NetExchange when nil
}

// withDefaults fills in defaults and resolves the upstreams.
func (c Config) withDefaults() (Config, error) {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.Zone = strings.Trim(c.Zone, "."); c.Zone == "" {
		c.Zone = DefaultZone
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.ResolvConfPath == "" {
		c.ResolvConfPath = DefaultResolvConf
	}
	if c.CacheSize == 0 {
		c.CacheSize = DefaultCacheSize
	}
	if c.CacheMaxTTL == 0 {
		c.CacheMaxTTL = DefaultCacheMaxTTL
	}
	if c.CacheMaxNegTTL == 0 {
		c.CacheMaxNegTTL = DefaultCacheMaxNegTTL
	}
	if c.UpstreamTimeout == 0 {
		c.UpstreamTimeout = DefaultUpstreamTimeout
	}
	if c.MaxConcurrentForwards == 0 {
		c.MaxConcurrentForwards = DefaultMaxForwards
	}
	if c.QueryTimeout == 0 {
		c.QueryTimeout = DefaultQueryTimeout
	}
	if c.MaxTCPConns == 0 {
		c.MaxTCPConns = DefaultMaxTCPConns
	}
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	if c.now == nil {
		c.now = time.Now
	}
	if len(c.Upstreams) == 0 {
		ups, err := UpstreamsFromResolvConf(c.ResolvConfPath)
		if err != nil {
			return c, err
		}
		c.Upstreams = ups
	} else {
		ups := make([]string, 0, len(c.Upstreams))
		for _, u := range c.Upstreams {
			p, err := ParseUpstream(u)
			if err != nil {
				return c, fmt.Errorf("dns config: %w", err)
			}
			ups = append(ups, p)
		}
		c.Upstreams = ups
	}
	return c, nil
}

// plugins is the plugin chain, in the order queries meet it. This is the
// one place that order is set:
//
//	kubernetes → cache → forward
//
// Cluster names are answered from the index and never cached (the index is
// already in memory and swapped whole); everything else is cached and
// forwarded.
func (s *Server) plugins() []Plugin {
	c := s.cfg
	chain := []Plugin{NewKubernetes(c.Zone, c.TTL, &s.index)}
	if c.CacheSize > 0 {
		chain = append(chain, NewCache(c.CacheSize, c.CacheMaxTTL, c.CacheMaxNegTTL, c.now))
	}
	return append(chain, NewForward(c.Upstreams, c.UpstreamTimeout, c.MaxConcurrentForwards, c.exchange))
}
