package dns

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
)

// DefaultResolvConf is where the host's resolvers are read from.
const DefaultResolvConf = "/etc/resolv.conf"

// ResolvConf returns the resolv.conf content of a pod in namespace:
//
//	nameserver <nameserver>
//	search <namespace>.svc.<zone> svc.<zone> <zone>
//	options ndots:5
//
// nameserver is an IP address; a port, if given, is dropped, since
// resolv.conf cannot carry one. zone defaults to DefaultZone; an empty
// namespace leaves its search entry out.
func ResolvConf(nameserver, namespace, zone string) string {
	if host, _, err := net.SplitHostPort(nameserver); err == nil {
		nameserver = host
	}
	zone = strings.Trim(zone, ".")
	if zone == "" {
		zone = DefaultZone
	}
	var search []string
	if namespace != "" {
		search = append(search, namespace+".svc."+zone)
	}
	search = append(search, "svc."+zone, zone)
	return "nameserver " + nameserver + "\n" +
		"search " + strings.Join(search, " ") + "\n" +
		"options ndots:5\n"
}

// UpstreamsFromResolvConf returns the nameservers of a resolv.conf file as
// ip:port upstreams, in file order.
func UpstreamsFromResolvConf(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read upstreams: %w", err)
	}
	defer f.Close()
	var ups []string
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != "nameserver" {
			continue
		}
		up, err := ParseUpstream(fields[1])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		ups = append(ups, up)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read upstreams from %s: %w", path, err)
	}
	if len(ups) == 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrNoUpstreams)
	}
	return ups, nil
}
