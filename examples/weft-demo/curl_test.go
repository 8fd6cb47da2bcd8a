package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCurl(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "%s %s %s", r.Method, r.Host, r.Header.Get("X-Test"))
	}))
	defer srv.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + ln.Addr().String() + "/"
	ln.Close()
	for _, tc := range []struct {
		args     []string
		code     int
		wantBody string
	}{
		{[]string{srv.URL + "/x"}, 0, "GET " + srv.Listener.Addr().String() + " "},
		{[]string{"-X", "POST", "-H", "X-Test: yes", "-H", "Host: flaskapp", srv.URL}, 0, "POST flaskapp yes"},
		{[]string{srv.URL + "/missing"}, 0, "404 page not found\n"},
		{[]string{"-f", srv.URL + "/missing"}, curlHTTPError, ""},
		{[]string{closed}, curlConnect, ""},
		{[]string{}, curlUsage, ""},
	} {
		var out, errb bytes.Buffer
		if code := curlMain(tc.args, &out, &errb); code != tc.code || out.String() != tc.wantBody {
			t.Errorf("curl %q: exit %d, body %q (stderr %q); want %d, %q", tc.args, code, out.String(), errb.String(), tc.code, tc.wantBody)
		}
	}
}
