package xdsresource

import (
	"net/netip"
	"time"
)

// TrafficDirection is envoy.config.core.v3.TrafficDirection.
type TrafficDirection uint8

// Traffic directions.
const (
	DirectionUnspecified TrafficDirection = iota
	DirectionInbound
	DirectionOutbound
)

// Listener is a decoded envoy.config.listener.v3.Listener.
type Listener struct {
	Name string
	// Host and Port are the socket address; Port may be 0 (any free port).
	Host string
	Port uint32
	// UseOriginalDst hands accepted connections to the listener matching
	// their original destination (SO_ORIGINAL_DST), as Envoy does.
	UseOriginalDst bool
	// BindToPort is false for listeners only reached through UseOriginalDst.
	BindToPort         bool
	Direction          TrafficDirection
	FilterChains       []*FilterChain
	DefaultFilterChain *FilterChain
	// OriginalDstFilter is set when the envoy.filters.listener.original_dst
	// listener filter restores the original destination for chain matching.
	OriginalDstFilter bool
	// HTTPInspector is set when the envoy.filters.listener.http_inspector
	// listener filter is configured (protocol sniffing).
	HTTPInspector bool
	// SniffTimeout bounds protocol sniffing (listener_filters_timeout).
	SniffTimeout time.Duration
	// BufferLimit is per_connection_buffer_limit_bytes (default 1 MiB):
	// the most of a request body the HTTP proxy buffers to replay it on
	// retries and mirrors; bigger bodies stream and are not retried.
	BufferLimit int64
}

// DefaultBufferLimit is Envoy's per_connection_buffer_limit_bytes default.
const DefaultBufferLimit = 1 << 20

// FilterChainMatch selects a filter chain for a connection.
type FilterChainMatch struct {
	DestinationPort      uint32
	PrefixRanges         []netip.Prefix
	TransportProtocol    string
	ApplicationProtocols []string
}

// FilterChain is one way of handling a connection: HTTP or TCP.
type FilterChain struct {
	Name  string
	Match FilterChainMatch
	// Exactly one of HTTP and TCP is set.
	HTTP *HTTPConnectionManager
	TCP  *TCPProxy
}

// CodecType is the downstream HTTP codec.
type CodecType uint8

// Codec types.
const (
	CodecAuto CodecType = iota
	CodecHTTP1
	CodecHTTP2
)

// HTTPConnectionManager is a decoded HCM network filter.
type HTTPConnectionManager struct {
	StatPrefix string
	// RouteConfigName names the RDS resource; empty when RouteConfig is inline.
	RouteConfigName string
	RouteConfig     *RouteConfiguration
	// Fault is true when the envoy.filters.http.fault filter is in the chain.
	Fault bool
	// FaultDefault is the filter-level fault config (nil when empty).
	FaultDefault *FaultPolicy
	Codec        CodecType
	// StreamIdleTimeout (default 5m): a request with no bytes received or
	// sent for this long ends: 408 "stream timeout" (flag SI) before the
	// response starts, a reset after. 0 disables it.
	StreamIdleTimeout time.Duration
	// RequestTimeout (default off): the whole request must be received in
	// this time, or it ends with 408 "request timeout" (if the response
	// has not started).
	RequestTimeout time.Duration
	// RequestHeadersTimeout (default off): the request headers must be
	// received in this time or the connection is closed. Off, the
	// listener's own bound applies (60s).
	RequestHeadersTimeout time.Duration
	// IdleTimeout closes connections with no active request.
	IdleTimeout time.Duration
	// DrainTimeout (default 5s): when the connection manager drains (its
	// listener is replaced or removed), HTTP/1 connections close after
	// their current response at once, HTTP/2 connections may still open
	// streams for this long before the final GOAWAY.
	DrainTimeout time.Duration
	// DelayedCloseTimeout (default 1s; 0 disables): when the proxy closes
	// a downstream connection it half-closes it and waits this long for
	// the peer to close first, so the peer reads the last response rather
	// than a reset.
	DelayedCloseTimeout  time.Duration
	WebSocket            bool
	GenerateRequestID    bool
	PreserveRequestID    bool
	ServerName           string
	MaxHeaderBytes       int
	MaxConcurrentStreams uint32
	NormalizePath        bool
	MergeSlashes         bool
	UseRemoteAddress     bool
}

// TCPProxy is a decoded tcp_proxy network filter.
type TCPProxy struct {
	StatPrefix  string
	Clusters    []WeightedCluster
	TotalWeight uint32
	IdleTimeout time.Duration
	// MaxConnectAttempts is at least 1.
	MaxConnectAttempts uint32
}
