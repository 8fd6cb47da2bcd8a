// Command weftctl is Weft's CLI, with kubectl's and istioctl's habits.
package main

import (
	"os"

	"github.com/weft-mesh/weft/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}
