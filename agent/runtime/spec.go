package runtime

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/weft-mesh/weft/agent/cgroups"
)

// Spec is what a container runs: written by the agent, read by the shim
// and its exec helper.
type Spec struct {
	// Args is the argv; Args[0] is looked up in the container's PATH.
	Args []string `json:"args"`
	Env  []string `json:"env"`
	// Dir is the working directory ("/" when empty).
	Dir string `json:"dir,omitempty"`
	// Mounts are set up in a private mount namespace, in order of depth.
	Mounts []Mount `json:"mounts,omitempty"`
	// Scratch is a directory for the overlays that make missing mount points.
	Scratch string `json:"scratch,omitempty"`
	// Cgroup, when set, is joined before the program starts.
	Cgroup *cgroups.Group `json:"cgroup,omitempty"`
	// NetNS, when set, is the network namespace (a path such as
	// /run/netns/NAME) the program joins: the pod's.
	NetNS string `json:"netns,omitempty"`
	// Hostname, when set, is the program's host name, in a UTS namespace
	// of its own.
	Hostname string `json:"hostname,omitempty"`
	// User, when set, is who the program runs as (securityContext's
	// runAsUser and runAsGroup); else it runs as the shim's user.
	User *User `json:"user,omitempty"`
}

// User is a numeric user and group, as a container's securityContext
// names them. Supplementary groups are dropped.
type User struct {
	UID int `json:"uid"`
	GID int `json:"gid"`
}

// Mount binds Source (a directory or file) at Target.
type Mount struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"readOnly,omitempty"`
}

// State is written by the shim once the program runs.
type State struct {
	PID int `json:"pid"`
	// ShimPID is the shim's own pid.
	ShimPID int `json:"shimPid"`
	// StartTicks is the program's start time in /proc/<pid>/stat (guards
	// against a recycled pid).
	StartTicks uint64    `json:"startTicks"`
	StartedAt  time.Time `json:"startedAt"`
}

// Exit is written by the shim when the program has ended.
type Exit struct {
	ExitCode int `json:"exitCode"`
	// Signal is the signal that ended the program (0 if it exited).
	Signal int `json:"signal,omitempty"`
	// Reason is Completed, Error, OOMKilled, StartError or
	// ContainerStatusUnknown, as Kubernetes reports them.
	Reason     string    `json:"reason"`
	Message    string    `json:"message,omitempty"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
}

// Exit reasons.
const (
	ReasonCompleted  = "Completed"
	ReasonError      = "Error"
	ReasonOOMKilled  = "OOMKilled"
	ReasonStartError = "StartError"
	ReasonUnknown    = "ContainerStatusUnknown"
)

// File names in an attempt directory.
const (
	specFile       = "spec.json"
	stateFile      = "state.json"
	exitFile       = "exit.json"
	logFile        = "log"
	startErrorFile = "start-error"
	shimLogFile    = "shim.log"
)

// ReadJSON reads a JSON file written by WriteJSON.
func ReadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// WriteJSON writes atomically: readers see the old file or the whole new one.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}
