package h1server

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"reflect"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// stdRequest reads one request as net/http's server does: http.ReadRequest
// and the checks (*conn).readRequest adds. err != nil means net/http
// answers an error (or falls to its own special cases, which ours never
// takes).
func stdRequest(in []byte) (*http.Request, []byte, error, error) {
	req, err := http.ReadRequest(bufio.NewReaderSize(bytes.NewReader(in), bufSize))
	if err != nil {
		return nil, nil, err, nil
	}
	// (ReadRequest drops the Host field; the server's check sees it.)
	tp := textproto.NewReader(bufio.NewReaderSize(bytes.NewReader(in), bufSize))
	_, _ = tp.ReadLine()
	raw, _ := tp.ReadMIMEHeader()
	hosts, haveHost := raw["Host"]
	if req.ProtoAtLeast(1, 1) && (!haveHost || len(hosts) == 0) && req.Method != "CONNECT" {
		return nil, nil, errString("missing Host"), nil
	}
	if len(hosts) == 1 && !httpguts.ValidHostHeader(hosts[0]) {
		return nil, nil, errString("malformed Host"), nil
	}
	for k, vv := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return nil, nil, errString("invalid header name"), nil
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil, nil, errString("invalid header value"), nil
			}
		}
	}
	if req.Header.Get("Expect") != "" {
		return nil, nil, errString("expect"), nil
	}
	delete(req.Header, "Host")
	body, berr := io.ReadAll(req.Body)
	return req, body, nil, berr
}

type errString string

func (e errString) Error() string { return string(e) }

// leanRequest reads one request with the lean parser; ok false: declined.
func leanRequest(in []byte) (req *http.Request, data []byte, berr error, ok bool) {
	n := headEnd(in)
	if n <= 0 || n > bufSize {
		return nil, nil, nil, false
	}
	req = new(http.Request)
	var u url.URL
	hd, _, ok := parsePlain(string(in[:n]), req, &u, http.Header{}, nil)
	if !ok {
		return nil, nil, nil, false
	}
	br := bufio.NewReaderSize(bytes.NewReader(in[n:]), bufSize)
	req.Body = http.NoBody
	if hd.chunked || hd.contentLength > 0 {
		var b body
		b.reset(br, req, hd, func() {})
		req.Body = &b
		if hd.chunked {
			req.TransferEncoding = chunkedTE
		}
	}
	data, berr = io.ReadAll(req.Body)
	return req, data, berr, true
}

// compareRequest reports how the lean parser differs from net/http on in
// ("" when it agrees or declines).
func compareRequest(in []byte) string {
	a, abody, aerr, ok := leanRequest(in)
	if !ok {
		return ""
	}
	b, bbody, err, berr := stdRequest(in)
	if err != nil {
		return "lean accepts what net/http rejects: " + err.Error()
	}
	switch {
	case a.Method != b.Method:
		return "method " + a.Method + " vs " + b.Method
	case !reflect.DeepEqual(a.URL, b.URL):
		return "url " + a.URL.String() + " vs " + b.URL.String()
	case a.RequestURI != b.RequestURI:
		return "request uri"
	case a.Proto != b.Proto || a.ProtoMajor != b.ProtoMajor || a.ProtoMinor != b.ProtoMinor:
		return "proto"
	case !reflect.DeepEqual(a.Header, b.Header):
		return "header"
	case a.Host != b.Host:
		return "host " + a.Host + " vs " + b.Host
	case a.ContentLength != b.ContentLength:
		return "content length"
	case !reflect.DeepEqual(a.TransferEncoding, b.TransferEncoding):
		return "transfer encoding"
	case a.Close != b.Close:
		return "close"
	case (aerr != nil) != (berr != nil):
		return "body error: " + errText(aerr) + " vs " + errText(berr)
	case !bytes.Equal(abody, bbody):
		return "body"
	case aerr == nil && len(a.Trailer)+len(b.Trailer) > 0 && !reflect.DeepEqual(a.Trailer, b.Trailer):
		return "trailer"
	}
	return ""
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

var parseSeeds = []string{
	"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET http://flaskapp/env/version HTTP/1.1\r\nHost: flaskapp\r\nUser-Agent: bench\r\n\r\n",
	"GET http://flaskapp:8080 HTTP/1.1\r\nHost: other\r\n\r\n",
	"GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: a.b:80\r\nAccept: */*\r\naccept: text/html\r\nX-Empty:\r\n\r\n",
	"GET /%41b?q HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /a? HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET http://user@h/ HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET http://[::1]:80/ HTTP/1.1\r\nHost: a\r\n\r\n",
	"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
	"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel",
	"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
	"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
	"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello",
	"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 05\r\n\r\nhello",
	"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
	"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nz\r\nhello\r\n0\r\n\r\n",
	"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
	"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET / HTTP/1.1\r\nX: y\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX : b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
	"GET / HTTP/1.0\r\n\r\n",
	"GET / HTTP/1.1\nHost: a\n\n",
	"G@T / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
	"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
	"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
	"GET /a\"b HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /a!b*(c) HTTP/1.1\r\nHost: a\r\n\r\n",
}

func TestParseAgreesWithNetHTTP(t *testing.T) {
	accepted := 0
	for _, s := range parseSeeds {
		if d := compareRequest([]byte(s)); d != "" {
			t.Errorf("%q: %s", s, d)
		}
		if _, _, _, ok := leanRequest([]byte(s)); ok {
			accepted++
		}
	}
	if accepted < 10 {
		t.Errorf("lean parser took only %d seeds", accepted)
	}
}

func TestParseCommonRequest(t *testing.T) {
	req, _, _, ok := leanRequest([]byte(parseSeeds[1]))
	if !ok {
		t.Fatal("declined")
	}
	if req.Host != "flaskapp" || req.URL.Path != "/env/version" || req.Header.Get("User-Agent") != "bench" || req.Header["Host"] != nil {
		t.Fatalf("got %+v", req)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if d := compareRequest(in); d != "" {
			t.Errorf("%q: %s", in, d)
		}
	})
}

func TestHeadEnd(t *testing.T) {
	for in, want := range map[string]int{
		"GET / HTTP/1.1\r\n\r\n": 18, "GET / HTTP/1.1\r\n": 0, "GET / HTTP/1.1\n\n": -1,
		"\r\nGET": -1, "": 0, "GET / HTTP/1.1\r\nA: b\r\n\r\nbody": 24,
	} {
		if got := headEnd([]byte(in)); got != want {
			t.Errorf("headEnd(%q) = %d, want %d", in, got, want)
		}
	}
}
