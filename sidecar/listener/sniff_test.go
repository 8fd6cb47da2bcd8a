package listener

import (
	"io"
	"net"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		in, transport, app string
	}{
		{"GET / HTTP/1.1\r\nHost: a\r\n", "raw_buffer", "http/1.1"},
		{"POST /x HTTP/1.0\r\n", "raw_buffer", "http/1.1"},
		{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "raw_buffer", "h2c"},
		{"\x16\x03\x01\x02\x00", "tls", ""},
		{"*1\r\n$4\r\nPING\r\n", "raw_buffer", ""},
		{"get / HTTP/1.1\r\n", "raw_buffer", ""},
		{"", "raw_buffer", ""},
	}
	for _, tt := range tests {
		tr, app := classify([]byte(tt.in))
		if tr != tt.transport || app != tt.app {
			t.Errorf("classify(%q) = %s %s, want %s %s", tt.in, tr, app, tt.transport, tt.app)
		}
	}
}

func TestSniffReplays(t *testing.T) {
	a, b := net.Pipe()
	go func() {
		io.WriteString(a, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		a.Close()
	}()
	c, tr, app := sniff(b, time.Second)
	if tr != "raw_buffer" || app != "http/1.1" {
		t.Fatalf("sniffed %s %s", tr, app)
	}
	all, _ := io.ReadAll(c)
	if string(all) != "GET / HTTP/1.1\r\nHost: x\r\n\r\n" {
		t.Fatalf("replayed %q", all)
	}
	// A client that sends nothing (server-first protocol) times out to raw TCP.
	x, y := net.Pipe()
	defer x.Close()
	_, tr, app = sniff(y, 50*time.Millisecond)
	if tr != "raw_buffer" || app != "" {
		t.Fatalf("silent client sniffed %s %s", tr, app)
	}
}

func FuzzClassify(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Add([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, app := classify(b)
		if tr != "tls" && tr != "raw_buffer" {
			t.Fatalf("transport %q", tr)
		}
		if tr == "tls" && app != "" {
			t.Fatal("tls with an application protocol")
		}
	})
}
