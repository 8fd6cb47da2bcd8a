//go:build !linux

package listener

import (
	"errors"
	"net"
)

func originalDst(net.Conn) (*net.TCPAddr, error) {
	return nil, errors.New("original destination: SO_ORIGINAL_DST needs Linux")
}
