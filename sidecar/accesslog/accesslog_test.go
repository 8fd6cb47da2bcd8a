package accesslog

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestLog(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf)
	l.Log(&Entry{Start: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Method: "GET", Authority: "flaskapp", Path: "/env/version",
		Protocol: "HTTP/1.1", Code: 503, Flags: "UO", Duration: 1500 * time.Millisecond, UpstreamCluster: "outbound|80|v1|flaskapp", RequestID: "id"})
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if m["response_code"] != 503.0 || m["response_flags"] != "UO" || m["duration"] != 1500.0 || m["start_time"] != "2026-01-02T03:04:05Z" || m["x_request_id"] != "id" {
		t.Fatalf("entry %v", m)
	}
	var nilLogger *Logger
	nilLogger.Log(&Entry{}) // off: no panic
}
