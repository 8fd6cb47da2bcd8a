package main

import (
	"fmt"
	"net/http"
	"os"

	"github.com/weft-mesh/weft/examples/weft-demo/bookinfo"
)

// bookinfoMain sets up "weft-demo bookinfo [<service> [<version>]]": it
// resolves the service (from the arguments, else $WEFT_IMAGE), makes 9080
// the default port and returns the service's handler. It exits on a usage
// error.
func bookinfoMain(args []string) http.Handler {
	h, err := func() (http.Handler, error) {
		service, version, err := bookinfo.Args(args, os.Getenv("WEFT_IMAGE"))
		if err != nil {
			return nil, err
		}
		return bookinfo.New(service, version, os.Getenv, os.Stdout)
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "weft-demo bookinfo:", err)
		os.Exit(2)
	}
	if os.Getenv("WEFT_CONTAINER_PORTS") == "" && os.Getenv("PORT") == "" {
		_ = os.Setenv("PORT", bookinfo.Port)
	}
	return h
}
