// Package relay forwards TCP connections and UDP datagrams from a local
// address to an upstream one. The agent uses it in netns mode to serve
// DNS (UDP and TCP, port 53) and xDS (TCP, port 15010) at its bridge
// address, forwarding to weftd, so that nothing in a pod needs the host's
// loopback.
//
//	r, err := relay.ListenTCP("10.244.1.1:15010", "127.0.0.1:15010")
//	go r.Serve()
//	defer r.Close()
package relay
