//go:build race

package e2e

import (
	"os"
	"strings"
)

// Binaries built with -race sleep a second before they exit (GORACE's
// atexit_sleep_ms, 1000 by default), which adds a second to every weftctl
// the tests run, to every shim the agent reset kills (one after the other)
// and to every weftd stop. The race reports do not need it: this package
// waits for each process it starts. The test binary read GORACE before
// init ran, so this applies only to the processes it starts.
func init() {
	if g := os.Getenv("GORACE"); !strings.Contains(g, "atexit_sleep_ms") {
		_ = os.Setenv("GORACE", strings.TrimSpace(g+" atexit_sleep_ms=0"))
	}
}
