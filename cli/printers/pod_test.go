package printers

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestPodStatus checks the READY, STATUS and RESTARTS cells of
// `kubectl get pods` for each case kubectl's printPod distinguishes.
func TestPodStatus(t *testing.T) {
	tests := []struct {
		name                    string
		pod                     *corev1.Pod
		ready, status, restarts string
	}{
		{"running", makePod("p").container("app", running(), true, 0).obj(), "1/1", "Running", "0"},
		{"running not ready", makePod("p").container("app", running(), false, 0).obj(), "0/1", "Running", "0"},
		{"pending unscheduled", makePod("p").phase(corev1.PodPending).specOnly("app").obj(), "0/1", "Pending", "0"},
		{"container creating", makePod("p").phase(corev1.PodPending).container("app", waiting("ContainerCreating"), false, 0).obj(), "0/1", "ContainerCreating", "0"},
		{"image pull backoff", makePod("p").phase(corev1.PodPending).container("app", waiting("ImagePullBackOff"), false, 0).obj(), "0/1", "ImagePullBackOff", "0"},
		{"crash loop with last restart", makePod("p").container("app", waiting("CrashLoopBackOff"), false, 5).lastTerminated(5 * time.Minute).obj(), "0/1", "CrashLoopBackOff", "5 (5m ago)"},
		{"restarted and running", makePod("p").container("app", running(), true, 2).lastTerminated(3*time.Hour + 20*time.Minute).obj(), "1/1", "Running", "2 (3h20m ago)"},
		{"restarts without a termination time", makePod("p").container("app", running(), true, 3).obj(), "1/1", "Running", "3"},
		{"completed", makePod("p").phase(corev1.PodSucceeded).container("job", terminated("Completed", 0, 0), false, 0).obj(), "0/1", "Completed", "0"},
		{"error", makePod("p").phase(corev1.PodFailed).container("job", terminated("Error", 1, 0), false, 0).obj(), "0/1", "Error", "0"},
		{"oom killed", makePod("p").container("app", terminated("OOMKilled", 137, 0), false, 1).obj(), "0/1", "OOMKilled", "1"},
		{"exit code without reason", makePod("p").phase(corev1.PodFailed).container("job", terminated("", 3, 0), false, 0).obj(), "0/1", "ExitCode:3", "0"},
		{"signal without reason", makePod("p").phase(corev1.PodFailed).container("job", terminated("", 137, 9), false, 0).obj(), "0/1", "Signal:9", "0"},
		{"evicted", makePod("p").phase(corev1.PodFailed).reason("Evicted").specOnly("app").obj(), "0/1", "Evicted", "0"},
		{"scheduling gated", makePod("p").phase(corev1.PodPending).node("").condition(corev1.PodScheduled, corev1.ConditionFalse, "SchedulingGated").specOnly("app").obj(), "0/1", "SchedulingGated", "0"},
		{"init running", makePod("p").phase(corev1.PodPending).initContainer("migrate", running(), false, true, false).container("app", waiting("PodInitializing"), false, 0).obj(), "0/1", "Init:0/1", "0"},
		{"second init waiting", makePod("p").phase(corev1.PodPending).
			initContainer("a", terminated("Completed", 0, 0), false, false, false).
			initContainer("b", waiting(""), false, false, false).
			container("app", waiting("PodInitializing"), false, 0).obj(), "0/1", "Init:1/2", "0"},
		{"init crash loop", makePod("p").phase(corev1.PodPending).initContainer("migrate", waiting("CrashLoopBackOff"), false, false, false).container("app", waiting("PodInitializing"), false, 0).obj(), "0/1", "Init:CrashLoopBackOff", "0"},
		{"init error", makePod("p").phase(corev1.PodPending).initContainer("migrate", terminated("Error", 1, 0), false, false, false).container("app", waiting("PodInitializing"), false, 0).obj(), "0/1", "Init:Error", "0"},
		{"init exit code", makePod("p").phase(corev1.PodPending).initContainer("migrate", terminated("", 2, 0), false, false, false).container("app", waiting("PodInitializing"), false, 0).obj(), "0/1", "Init:ExitCode:2", "0"},
		{"sidecar counts as a container", makePod("p").initContainer("proxy", running(), true, true, true).container("app", running(), true, 0).obj(), "2/2", "Running", "0"},
		{"completed container beside a running one, pod ready", makePod("p").condition(corev1.PodReady, corev1.ConditionTrue, "").
			container("setup", terminated("Completed", 0, 0), false, 0).container("app", running(), true, 0).obj(), "1/2", "Running", "0"},
		{"completed container beside a running one, pod not ready", makePod("p").condition(corev1.PodReady, corev1.ConditionFalse, "").
			container("setup", terminated("Completed", 0, 0), false, 0).container("app", running(), true, 0).obj(), "1/2", "NotReady", "0"},
		{"terminating", makePod("p").deleting().container("app", running(), true, 0).obj(), "1/1", "Terminating", "0"},
		{"deleted on a lost node", makePod("p").deleting().reason("NodeLost").container("app", running(), true, 0).obj(), "1/1", "Unknown", "0"},
		{"deleted after it completed", makePod("p").deleting().phase(corev1.PodSucceeded).container("job", terminated("Completed", 0, 0), false, 0).obj(), "0/1", "Completed", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := podRow(tt.pod, TableOptions{Now: now})
			if got := row[1]; got != tt.ready {
				t.Errorf("READY = %q, want %q", got, tt.ready)
			}
			if got := row[2]; got != tt.status {
				t.Errorf("STATUS = %q, want %q", got, tt.status)
			}
			if got := row[3]; got != tt.restarts {
				t.Errorf("RESTARTS = %q, want %q", got, tt.restarts)
			}
		})
	}
}
