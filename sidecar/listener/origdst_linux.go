//go:build linux

package listener

import (
	"fmt"
	"net"
	"syscall"
	"unsafe"
)

const soOriginalDst = 80 // SO_ORIGINAL_DST, linux/netfilter_ipv4.h

// originalDst returns the destination a connection had before an iptables
// REDIRECT sent it to the proxy (IPv4).
func originalDst(c net.Conn) (*net.TCPAddr, error) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil, fmt.Errorf("original destination: %T is not a TCP connection", c)
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("original destination: %w", err)
	}
	var addr syscall.RawSockaddrInet4
	var serr error
	err = raw.Control(func(fd uintptr) {
		size := uint32(unsafe.Sizeof(addr))
		_, _, errno := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.IPPROTO_IP, soOriginalDst,
			uintptr(unsafe.Pointer(&addr)), uintptr(unsafe.Pointer(&size)), 0)
		if errno != 0 {
			serr = errno
		}
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return nil, fmt.Errorf("original destination: getsockopt SO_ORIGINAL_DST: %w", err)
	}
	port := int(addr.Port>>8 | addr.Port<<8&0xff00)
	return &net.TCPAddr{IP: net.IPv4(addr.Addr[0], addr.Addr[1], addr.Addr[2], addr.Addr[3]), Port: port}, nil
}
