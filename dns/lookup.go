package dns

import (
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// maxCNAMEHops bounds CNAME chains followed inside the zone.
const maxCNAMEHops = 8

// Result is the index's answer to one question.
type Result struct {
	Rcode  int      // dns.RcodeSuccess (with NODATA when Answer is empty), dns.RcodeNameError, or dns.RcodeServerFailure for a CNAME loop
	Answer []dns.RR // owner names keep the question's spelling
	Ns     []dns.RR // the zone's SOA for NXDOMAIN and NODATA
	Extra  []dns.RR // addresses of SRV targets
	// Chase is set when Answer ends in a CNAME to a name outside the zone
	// (an ExternalName service): the caller resolves it and appends.
	Chase string
}

// Lookup answers a question of class IN from the index. It is pure: the
// same index, question and ttl give the same Result. ok is false when the
// name is not the index's to answer: outside the zone, or a reverse name
// (in-addr.arpa, ip6.arpa) of an address the index does not know, or a
// reverse name asked for another type than PTR.
func (ix *Index) Lookup(name string, qtype uint16, ttl uint32) (res Result, ok bool) {
	qname := lowerFQDN(name)
	if inZone(ix.zone, qname) {
		return ix.lookupZone(dns.Fqdn(name), qname, qtype, ttl), true
	}
	if qtype != dns.TypePTR {
		return Result{}, false
	}
	ip, isReverse := parseReverse(qname)
	if !isReverse {
		return Result{}, false
	}
	names := ix.ptr[ip]
	if len(names) == 0 {
		return Result{}, false
	}
	for _, n := range names {
		res.Answer = append(res.Answer, &dns.PTR{Hdr: hdr(dns.Fqdn(name), dns.TypePTR, ttl), Ptr: n})
	}
	return res, true
}

func (ix *Index) lookupZone(owner, qname string, qtype uint16, ttl uint32) Result {
	var res Result
	for hop := 0; ; hop++ {
		if hop > maxCNAMEHops {
			res.Rcode = dns.RcodeServerFailure
			return res
		}
		n := ix.names[qname]
		if n == nil {
			n = ix.podNode(qname)
		}
		if n == nil {
			res.Rcode = dns.RcodeNameError
			res.Ns = []dns.RR{ix.soa(ttl)}
			return res
		}
		if n.cname != "" && qtype != dns.TypeCNAME {
			res.Answer = append(res.Answer, &dns.CNAME{Hdr: hdr(owner, dns.TypeCNAME, ttl), Target: n.cname})
			if !inZone(ix.zone, n.cname) {
				res.Chase = n.cname
				return res
			}
			owner, qname = n.cname, n.cname
			continue
		}
		before := len(res.Answer)
		switch qtype {
		case dns.TypeA, dns.TypeAAAA:
			res.Answer = appendAddrs(res.Answer, owner, n.addrs, qtype, ttl)
		case dns.TypeSRV:
			ix.appendSRV(&res, owner, n.srv, ttl)
		case dns.TypeCNAME:
			if n.cname != "" {
				res.Answer = append(res.Answer, &dns.CNAME{Hdr: hdr(owner, dns.TypeCNAME, ttl), Target: n.cname})
			}
		case dns.TypeSOA:
			if qname == ix.zone {
				soa := ix.soa(ttl)
				soa.Hdr.Name = owner
				res.Answer = append(res.Answer, soa)
			}
		case dns.TypeNS:
			if qname == ix.zone {
				res.Answer = append(res.Answer, &dns.NS{Hdr: hdr(owner, dns.TypeNS, ttl), Ns: "ns.dns." + ix.zone})
			}
		}
		if len(res.Answer) == before {
			res.Ns = []dns.RR{ix.soa(ttl)} // NODATA
		}
		return res
	}
}

// podNode synthesizes the node of <a-b-c-d>.<ns>.pod.<zone> for a namespace
// the index knows, as CoreDNS's "pods insecure" does.
func (ix *Index) podNode(qname string) *node {
	rest, ok := strings.CutSuffix(qname, ".pod."+ix.zone)
	if !ok {
		return nil
	}
	label, ns, ok := strings.Cut(rest, ".")
	if !ok || !ix.namespaces[ns] {
		return nil
	}
	ip, ok := undashed(label)
	if !ok {
		return nil
	}
	return &node{addrs: []netip.Addr{ip}}
}

func appendAddrs(rrs []dns.RR, owner string, addrs []netip.Addr, qtype uint16, ttl uint32) []dns.RR {
	for _, ip := range addrs {
		switch {
		case qtype == dns.TypeA && ip.Is4():
			b := ip.As4()
			rrs = append(rrs, &dns.A{Hdr: hdr(owner, dns.TypeA, ttl), A: net.IP(b[:])})
		case qtype == dns.TypeAAAA && ip.Is6():
			b := ip.As16()
			rrs = append(rrs, &dns.AAAA{Hdr: hdr(owner, dns.TypeAAAA, ttl), AAAA: net.IP(b[:])})
		}
	}
	return rrs
}

// appendSRV answers SRV records, weights shared out as CoreDNS does, with the
// addresses of targets the index knows in the additional section.
func (ix *Index) appendSRV(res *Result, owner string, srv []srvTarget, ttl uint32) {
	if len(srv) == 0 {
		return
	}
	weight := uint16(max(1, 100/len(srv)))
	var seen map[string]bool
	for _, s := range srv {
		res.Answer = append(res.Answer, &dns.SRV{Hdr: hdr(owner, dns.TypeSRV, ttl), Priority: 0, Weight: weight, Port: s.port, Target: s.target})
		if seen[s.target] {
			continue
		}
		if seen == nil {
			seen = map[string]bool{}
		}
		seen[s.target] = true
		if t := ix.names[s.target]; t != nil {
			res.Extra = appendAddrs(res.Extra, s.target, t.addrs, dns.TypeA, ttl)
			res.Extra = appendAddrs(res.Extra, s.target, t.addrs, dns.TypeAAAA, ttl)
		}
	}
}

// soa is the zone's SOA; its minimum, and so the negative-caching TTL of
// RFC 2308, is the records' TTL.
func (ix *Index) soa(ttl uint32) *dns.SOA {
	return &dns.SOA{
		Hdr:     hdr(ix.zone, dns.TypeSOA, ttl),
		Ns:      "ns.dns." + ix.zone,
		Mbox:    "hostmaster." + ix.zone,
		Serial:  soaSerial,
		Refresh: 7200,
		Retry:   1800,
		Expire:  86400,
		Minttl:  ttl,
	}
}

func hdr(name string, rrtype uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: rrtype, Class: dns.ClassINET, Ttl: ttl}
}

// inZone reports whether the lowercase FQDN name is zone or below it.
func inZone(zone, name string) bool {
	return len(name) >= len(zone) && name[len(name)-len(zone):] == zone &&
		(len(name) == len(zone) || name[len(name)-len(zone)-1] == '.')
}

// lowerFQDN lowercases an FQDN, without allocating when it already is.
func lowerFQDN(name string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= 'A' && c <= 'Z' {
			return dns.CanonicalName(name)
		}
	}
	return dns.Fqdn(name)
}

// parseReverse parses a full in-addr.arpa or ip6.arpa name (lowercase) into
// the address it names.
func parseReverse(qname string) (netip.Addr, bool) {
	if rest, ok := strings.CutSuffix(qname, ".in-addr.arpa."); ok {
		labels := strings.Split(rest, ".")
		if len(labels) != 4 {
			return netip.Addr{}, false
		}
		ip, err := netip.ParseAddr(labels[3] + "." + labels[2] + "." + labels[1] + "." + labels[0])
		return ip, err == nil
	}
	if rest, ok := strings.CutSuffix(qname, ".ip6.arpa."); ok {
		if len(rest) != 63 {
			return netip.Addr{}, false
		}
		var b [16]byte
		for i := 0; i < 32; i++ {
			c := rest[62-2*i]
			if i < 31 && rest[62-2*i-1] != '.' {
				return netip.Addr{}, false
			}
			var v byte
			switch {
			case c >= '0' && c <= '9':
				v = c - '0'
			case c >= 'a' && c <= 'f':
				v = c - 'a' + 10
			default:
				return netip.Addr{}, false
			}
			b[i/2] |= v << (4 * (1 - i%2))
		}
		return netip.AddrFrom16(b).Unmap(), true
	}
	return netip.Addr{}, false
}
