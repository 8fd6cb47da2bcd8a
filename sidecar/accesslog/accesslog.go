// Package accesslog writes weft-proxy's access log: one JSON object per
// HTTP request or TCP connection through zap, with the fields Envoy's
// default log carries (start time, method, authority, path, protocol,
// response code and flags, bytes, duration, upstream host and cluster,
// route name, request id).
package accesslog

import (
	"io"
	"os"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Entry is one access log line. The proxy fills it and calls Log.
type Entry struct {
	Start           time.Time
	Method          string
	Authority       string
	Path            string
	Protocol        string
	Code            int
	Flags           string
	BytesReceived   int64
	BytesSent       int64
	Duration        time.Duration
	UpstreamHost    string
	UpstreamCluster string
	RouteName       string
	RequestID       string
	Downstream      string
	UserAgent       string
	Attempts        int
	Listener        string
}

// Logger writes entries; a nil *Logger or one built with Off logs nothing.
type Logger struct {
	core zapcore.Core
}

// New writes JSON lines to w.
func New(w io.Writer) *Logger {
	enc := zapcore.NewJSONEncoder(zapcore.EncoderConfig{
		MessageKey: "", LevelKey: "", TimeKey: "", NameKey: "", CallerKey: "", StacktraceKey: "",
		LineEnding: zapcore.DefaultLineEnding,
	})
	return &Logger{core: zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), zapcore.InfoLevel)}
}

// Open returns a Logger for a destination flag: "off" or "" (none),
// "stdout", "stderr", or a file path (appended to).
func Open(dest string) (*Logger, io.Closer, error) {
	switch dest {
	case "", "off":
		return nil, io.NopCloser(nil), nil
	case "stdout", "/dev/stdout":
		return New(os.Stdout), io.NopCloser(nil), nil
	case "stderr", "/dev/stderr":
		return New(os.Stderr), io.NopCloser(nil), nil
	}
	f, err := os.OpenFile(dest, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	return New(f), f, nil
}

// Enabled reports whether Log writes anything.
func (l *Logger) Enabled() bool { return l != nil }

// Log writes e.
func (l *Logger) Log(e *Entry) {
	if l == nil {
		return
	}
	_ = l.core.Write(zapcore.Entry{Time: e.Start}, []zapcore.Field{
		zap.String("start_time", e.Start.UTC().Format(time.RFC3339Nano)),
		zap.String("method", e.Method),
		zap.String("authority", e.Authority),
		zap.String("path", e.Path),
		zap.String("protocol", e.Protocol),
		zap.Int("response_code", e.Code),
		zap.String("response_flags", e.Flags),
		zap.Int64("bytes_received", e.BytesReceived),
		zap.Int64("bytes_sent", e.BytesSent),
		zap.Int64("duration", e.Duration.Milliseconds()),
		zap.String("upstream_host", e.UpstreamHost),
		zap.String("upstream_cluster", e.UpstreamCluster),
		zap.String("route_name", e.RouteName),
		zap.String("x_request_id", e.RequestID),
		zap.String("downstream_remote_address", e.Downstream),
		zap.String("user_agent", e.UserAgent),
		zap.Int("upstream_attempts", e.Attempts),
		zap.String("listener", e.Listener),
	})
}
