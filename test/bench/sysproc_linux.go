package main

import (
	"os/exec"
	"syscall"
)

// setDeathSignal has the kernel kill weftd if the harness dies without
// stopping it (a panic in another goroutine, SIGKILL).
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
