package printers

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// pod is kubectl's describePod.
func (d *describer) pod(pod *corev1.Pod) string {
	return tabbed(func(w *prefixWriter) {
		w.write(level0, "Name:\t%s\n", pod.Name)
		w.write(level0, "Namespace:\t%s\n", pod.Namespace)
		if pod.Spec.Priority != nil {
			w.write(level0, "Priority:\t%d\n", *pod.Spec.Priority)
		}
		if pod.Spec.PriorityClassName != "" {
			w.write(level0, "Priority Class Name:\t%s\n", pod.Spec.PriorityClassName)
		}
		if pod.Spec.RuntimeClassName != nil && *pod.Spec.RuntimeClassName != "" {
			w.write(level0, "Runtime Class Name:\t%s\n", *pod.Spec.RuntimeClassName)
		}
		if pod.Spec.ServiceAccountName != "" {
			w.write(level0, "Service Account:\t%s\n", pod.Spec.ServiceAccountName)
		}
		if pod.Spec.NodeName == "" {
			w.write(level0, "Node:\t<none>\n")
		} else {
			w.write(level0, "Node:\t%s\n", pod.Spec.NodeName+"/"+pod.Status.HostIP)
		}
		if pod.Status.StartTime != nil {
			w.write(level0, "Start Time:\t%s\n", formatTime(*pod.Status.StartTime))
		}
		printLabels(w, "Labels", pod.Labels)
		printAnnotations(w, "Annotations", pod.Annotations)
		if pod.DeletionTimestamp != nil && !podPhaseTerminal(pod.Status.Phase) {
			w.write(level0, "Status:\tTerminating (lasts %s)\n", since(d.now, *pod.DeletionTimestamp))
			grace := int64(0)
			if pod.DeletionGracePeriodSeconds != nil {
				grace = *pod.DeletionGracePeriodSeconds
			}
			w.write(level0, "Termination Grace Period:\t%ds\n", grace)
		} else {
			w.write(level0, "Status:\t%s\n", string(pod.Status.Phase))
		}
		if pod.Status.Reason != "" {
			w.write(level0, "Reason:\t%s\n", pod.Status.Reason)
		}
		if pod.Status.Message != "" {
			w.write(level0, "Message:\t%s\n", pod.Status.Message)
		}
		if sc := pod.Spec.SecurityContext; sc != nil && sc.SeccompProfile != nil {
			w.write(level0, "SeccompProfile:\t%s\n", sc.SeccompProfile.Type)
			if sc.SeccompProfile.Type == corev1.SeccompProfileTypeLocalhost && sc.SeccompProfile.LocalhostProfile != nil {
				w.write(level0, "LocalhostProfile:\t%s\n", *sc.SeccompProfile.LocalhostProfile)
			}
		}
		w.write(level0, "IP:\t%s\n", pod.Status.PodIP)
		if len(pod.Status.PodIPs) == 0 {
			w.write(level0, "IPs:\t<none>\n")
		} else {
			w.write(level0, "IPs:\n")
			for _, ip := range pod.Status.PodIPs {
				w.write(level1, "IP:\t%s\n", ip.IP)
			}
		}
		if c := controlledBy(pod); c != "" {
			w.write(level0, "Controlled By:\t%s\n", c)
		}
		if pod.Status.NominatedNodeName != "" {
			w.write(level0, "NominatedNodeName:\t%s\n", pod.Status.NominatedNodeName)
		}
		if pod.Spec.Resources != nil {
			w.write(level0, "Resources:\n")
			describeResources(w, pod.Spec.Resources, level1)
		}
		resolve := envResolver(pod)
		if len(pod.Spec.InitContainers) > 0 {
			describeContainers(w, "Init Containers", pod.Spec.InitContainers, pod.Status.InitContainerStatuses, resolve, "")
		}
		describeContainers(w, "Containers", pod.Spec.Containers, pod.Status.ContainerStatuses, resolve, "")
		if len(pod.Spec.EphemeralContainers) > 0 {
			var ec []corev1.Container
			for _, c := range pod.Spec.EphemeralContainers {
				ec = append(ec, corev1.Container(c.EphemeralContainerCommon))
			}
			describeContainers(w, "Ephemeral Containers", ec, pod.Status.EphemeralContainerStatuses, resolve, "")
		}
		if len(pod.Spec.ReadinessGates) > 0 {
			w.write(level0, "Readiness Gates:\n  Type\tStatus\n")
			for _, g := range pod.Spec.ReadinessGates {
				status := "<none>"
				for _, c := range pod.Status.Conditions {
					if c.Type == g.ConditionType {
						status = string(c.Status)
						break
					}
				}
				w.write(level1, "%v \t%v \n", g.ConditionType, status)
			}
		}
		if len(pod.Status.Conditions) > 0 {
			w.write(level0, "Conditions:\n  Type\tStatus\n")
			for _, c := range pod.Status.Conditions {
				w.write(level1, "%v \t%v \n", c.Type, c.Status)
			}
		}
		describeVolumes(w, pod.Spec.Volumes, "")
		w.write(level0, "QoS Class:\t%s\n", podQOS(pod))
		printLabels(w, "Node-Selectors", pod.Spec.NodeSelector)
		printTolerations(w, "Tolerations", pod.Spec.Tolerations)
		describeTopologySpreadConstraints(w, pod.Spec.TopologySpreadConstraints, "")
		d.describeEvents(w)
	})
}

// describePodTemplate is kubectl's DescribePodTemplate, for workloads.
func describePodTemplate(w *prefixWriter, t *corev1.PodTemplateSpec) {
	w.write(level0, "Pod Template:\n")
	if t == nil {
		w.write(level1, "<unset>")
		return
	}
	printLabels(w, "  Labels", t.Labels)
	if len(t.Annotations) > 0 {
		printAnnotations(w, "  Annotations", t.Annotations)
	}
	if t.Spec.ServiceAccountName != "" {
		w.write(level1, "Service Account:\t%s\n", t.Spec.ServiceAccountName)
	}
	if len(t.Spec.InitContainers) > 0 {
		describeContainers(w, "Init Containers", t.Spec.InitContainers, nil, nil, "  ")
	}
	describeContainers(w, "Containers", t.Spec.Containers, nil, nil, "  ")
	describeVolumes(w, t.Spec.Volumes, "  ")
	describeTopologySpreadConstraints(w, t.Spec.TopologySpreadConstraints, "  ")
	if t.Spec.PriorityClassName != "" {
		w.write(level1, "Priority Class Name:\t%s\n", t.Spec.PriorityClassName)
	}
	printLabels(w, "  Node-Selectors", t.Spec.NodeSelector)
	printTolerations(w, "  Tolerations", t.Spec.Tolerations)
}

// envResolverFunc gives the value of an environment variable set from a
// field of the pod.
type envResolverFunc func(e corev1.EnvVar) string

func describeContainers(w *prefixWriter, label string, containers []corev1.Container, statuses []corev1.ContainerStatus, resolve envResolverFunc, space string) {
	byName := make(map[string]corev1.ContainerStatus, len(statuses))
	for _, s := range statuses {
		byName[s.Name] = s
	}
	none := ""
	if len(containers) == 0 {
		none = " <none>"
	}
	w.write(level0, "%s%s:%s\n", space, label, none)

	for i := range containers {
		c := &containers[i]
		status, ok := byName[c.Name]
		nameIndent := ""
		if space != "" {
			nameIndent = " "
		}
		w.write(level1, "%s%v:\n", nameIndent, c.Name)
		if ok {
			w.write(level2, "Container ID:\t%s\n", status.ContainerID)
		}
		w.write(level2, "Image:\t%s\n", c.Image)
		if ok {
			w.write(level2, "Image ID:\t%s\n", status.ImageID)
		}
		ports, hostPorts := containerPorts(c.Ports)
		if strings.Contains(ports, ",") {
			w.write(level2, "Ports:\t%s\n", ports)
		} else {
			w.write(level2, "Port:\t%s\n", orNone(ports))
		}
		if strings.Contains(hostPorts, ",") {
			w.write(level2, "Host Ports:\t%s\n", hostPorts)
		} else {
			w.write(level2, "Host Port:\t%s\n", orNone(hostPorts))
		}
		if sc := c.SecurityContext; sc != nil && sc.SeccompProfile != nil {
			w.write(level2, "SeccompProfile:\t%s\n", sc.SeccompProfile.Type)
			if sc.SeccompProfile.Type == corev1.SeccompProfileTypeLocalhost && sc.SeccompProfile.LocalhostProfile != nil {
				w.write(level3, "LocalhostProfile:\t%s\n", *sc.SeccompProfile.LocalhostProfile)
			}
		}
		describeCommand(w, c)
		if ok {
			describeContainerStatus(w, "State", status.State)
			if status.LastTerminationState.Terminated != nil {
				describeContainerStatus(w, "Last State", status.LastTerminationState)
			}
			w.write(level2, "Ready:\t%v\n", boolString(status.Ready))
			w.write(level2, "Restart Count:\t%d\n", status.RestartCount)
		}
		describeResources(w, &c.Resources, level2)
		for _, p := range []struct {
			title string
			probe *corev1.Probe
		}{{"Liveness", c.LivenessProbe}, {"Readiness", c.ReadinessProbe}, {"Startup", c.StartupProbe}} {
			if p.probe != nil {
				w.write(level2, "%s:\t%s\n", p.title, describeProbe(p.probe))
			}
		}
		if len(c.EnvFrom) > 0 {
			describeEnvFrom(w, c)
		}
		describeEnv(w, c, resolve)
		describeMounts(w, c)
	}
}

func containerPorts(ports []corev1.ContainerPort) (container, host string) {
	var cs, hs []string
	for _, p := range ports {
		cs = append(cs, fmt.Sprintf("%d/%s", p.ContainerPort, p.Protocol))
		hs = append(hs, fmt.Sprintf("%d/%s", p.HostPort, p.Protocol))
	}
	return strings.Join(cs, ", "), strings.Join(hs, ", ")
}

func describeCommand(w *prefixWriter, c *corev1.Container) {
	for _, part := range []struct {
		title string
		args  []string
	}{{"Command", c.Command}, {"Args", c.Args}} {
		if len(part.args) == 0 {
			continue
		}
		w.write(level2, "%s:\n", part.title)
		for _, a := range part.args {
			for _, s := range strings.Split(a, "\n") {
				w.write(level3, "%s\n", s)
			}
		}
	}
}

func describeContainerStatus(w *prefixWriter, title string, state corev1.ContainerState) {
	switch {
	case state.Running != nil:
		w.write(level2, "%s:\tRunning\n", title)
		w.write(level3, "Started:\t%v\n", formatTime(state.Running.StartedAt))
	case state.Waiting != nil:
		w.write(level2, "%s:\tWaiting\n", title)
		if state.Waiting.Reason != "" {
			w.write(level3, "Reason:\t%s\n", state.Waiting.Reason)
		}
	case state.Terminated != nil:
		t := state.Terminated
		w.write(level2, "%s:\tTerminated\n", title)
		if t.Reason != "" {
			w.write(level3, "Reason:\t%s\n", t.Reason)
		}
		if t.Message != "" {
			w.write(level3, "Message:\t%s\n", t.Message)
		}
		w.write(level3, "Exit Code:\t%d\n", t.ExitCode)
		if t.Signal > 0 {
			w.write(level3, "Signal:\t%d\n", t.Signal)
		}
		w.write(level3, "Started:\t%s\n", formatTime(t.StartedAt))
		w.write(level3, "Finished:\t%s\n", formatTime(t.FinishedAt))
	default:
		w.write(level2, "%s:\tWaiting\n", title)
	}
}

// describeResources prints limits then requests, sorted by name.
func describeResources(w *prefixWriter, r *corev1.ResourceRequirements, level int) {
	if r == nil {
		return
	}
	for _, part := range []struct {
		title string
		list  corev1.ResourceList
	}{{"Limits", r.Limits}, {"Requests", r.Requests}} {
		if len(part.list) == 0 {
			continue
		}
		w.write(level, "%s:\n", part.title)
		for _, name := range sortedResourceNames(part.list) {
			q := part.list[name]
			w.write(level+1, "%s:\t%s\n", name, q.String())
		}
	}
}

func sortedResourceNames(list corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(list))
	for n := range list {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// describeProbe is kubectl's DescribeProbe.
func describeProbe(p *corev1.Probe) string {
	attrs := fmt.Sprintf("delay=%ds timeout=%ds period=%ds #success=%d #failure=%d",
		p.InitialDelaySeconds, p.TimeoutSeconds, p.PeriodSeconds, p.SuccessThreshold, p.FailureThreshold)
	switch {
	case p.Exec != nil:
		return fmt.Sprintf("exec %v %s", p.Exec.Command, attrs)
	case p.HTTPGet != nil:
		u := &url.URL{Scheme: strings.ToLower(string(p.HTTPGet.Scheme)), Path: p.HTTPGet.Path}
		if port := p.HTTPGet.Port.String(); port != "" {
			u.Host = net.JoinHostPort(p.HTTPGet.Host, port)
		} else {
			u.Host = p.HTTPGet.Host
		}
		return fmt.Sprintf("http-get %s %s", u.String(), attrs)
	case p.TCPSocket != nil:
		return fmt.Sprintf("tcp-socket %s:%s %s", p.TCPSocket.Host, p.TCPSocket.Port.String(), attrs)
	case p.GRPC != nil:
		service := ""
		if p.GRPC.Service != nil {
			service = *p.GRPC.Service
		}
		return fmt.Sprintf("grpc <pod>:%d %s %s", p.GRPC.Port, service, attrs)
	}
	return fmt.Sprintf("unknown %s", attrs)
}

func describeEnvFrom(w *prefixWriter, c *corev1.Container) {
	w.write(level2, "Environment Variables from:\n")
	for _, e := range c.EnvFrom {
		from, name, optional := "", "", false
		switch {
		case e.ConfigMapRef != nil:
			from, name = "ConfigMap", e.ConfigMapRef.Name
			optional = e.ConfigMapRef.Optional != nil && *e.ConfigMapRef.Optional
		case e.SecretRef != nil:
			from, name = "Secret", e.SecretRef.Name
			optional = e.SecretRef.Optional != nil && *e.SecretRef.Optional
		}
		if e.Prefix == "" {
			w.write(level3, "%s\t%s\tOptional: %t\n", name, from, optional)
		} else {
			w.write(level3, "%s\t%s with prefix '%s'\tOptional: %t\n", name, from, e.Prefix, optional)
		}
	}
}

func describeEnv(w *prefixWriter, c *corev1.Container, resolve envResolverFunc) {
	none := ""
	if len(c.Env) == 0 {
		none = "\t<none>"
	}
	w.write(level2, "Environment:%s\n", none)
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			for i, s := range strings.Split(e.Value, "\n") {
				if i == 0 {
					w.write(level3, "%s:\t%s\n", e.Name, s)
				} else {
					w.write(level3, "\t%s\n", s)
				}
			}
			continue
		}
		switch vf := e.ValueFrom; {
		case vf.FieldRef != nil:
			value := ""
			if resolve != nil {
				value = resolve(e)
			}
			w.write(level3, "%s:\t%s (%s:%s)\n", e.Name, value, vf.FieldRef.APIVersion, vf.FieldRef.FieldPath)
		case vf.ResourceFieldRef != nil:
			value := containerResourceValue(vf.ResourceFieldRef, c)
			res := vf.ResourceFieldRef.Resource
			if value == "0" && (res == "limits.cpu" || res == "limits.memory") {
				value = "node allocatable"
			}
			w.write(level3, "%s:\t%s (%s)\n", e.Name, value, res)
		case vf.SecretKeyRef != nil:
			optional := vf.SecretKeyRef.Optional != nil && *vf.SecretKeyRef.Optional
			w.write(level3, "%s:\t<set to the key '%s' in secret '%s'>\tOptional: %t\n", e.Name, vf.SecretKeyRef.Key, vf.SecretKeyRef.Name, optional)
		case vf.ConfigMapKeyRef != nil:
			optional := vf.ConfigMapKeyRef.Optional != nil && *vf.ConfigMapKeyRef.Optional
			w.write(level3, "%s:\t<set to the key '%s' of config map '%s'>\tOptional: %t\n", e.Name, vf.ConfigMapKeyRef.Key, vf.ConfigMapKeyRef.Name, optional)
		}
	}
}

// containerResourceValue is the value the kubelet gives an environment
// variable set from a container resource: rounded up in units of the
// divisor.
func containerResourceValue(ref *corev1.ResourceFieldSelector, c *corev1.Container) string {
	divisor := resource.MustParse("1")
	if !ref.Divisor.IsZero() {
		divisor = ref.Divisor
	}
	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok {
		return ""
	}
	var list corev1.ResourceList
	switch kind {
	case "limits":
		list = c.Resources.Limits
	case "requests":
		list = c.Resources.Requests
	default:
		return ""
	}
	q := list[corev1.ResourceName(name)]
	switch corev1.ResourceName(name) {
	case corev1.ResourceCPU:
		if divisor.MilliValue() == 0 {
			return ""
		}
		return strconv.FormatInt(int64(math.Ceil(float64(q.MilliValue())/float64(divisor.MilliValue()))), 10)
	case corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
		if divisor.Value() == 0 {
			return ""
		}
		return strconv.FormatInt(int64(math.Ceil(float64(q.Value())/float64(divisor.Value()))), 10)
	}
	return ""
}

// envResolver resolves the pod fields environment variables can refer to.
func envResolver(pod *corev1.Pod) envResolverFunc {
	return func(e corev1.EnvVar) string {
		return podFieldValue(pod, e.ValueFrom.FieldRef.FieldPath)
	}
}

var subscriptedField = regexp.MustCompile(`^metadata\.(labels|annotations)\['(.*)'\]$`)

// podFieldValue is the value of a downward API field path of the pod.
func podFieldValue(pod *corev1.Pod, path string) string {
	if m := subscriptedField.FindStringSubmatch(path); m != nil {
		if m[1] == "labels" {
			return pod.Labels[m[2]]
		}
		return pod.Annotations[m[2]]
	}
	ips := func(list []corev1.PodIP) string {
		var s []string
		for _, ip := range list {
			s = append(s, ip.IP)
		}
		return strings.Join(s, ",")
	}
	switch path {
	case "metadata.name":
		return pod.Name
	case "metadata.namespace":
		return pod.Namespace
	case "metadata.uid":
		return string(pod.UID)
	case "spec.nodeName":
		return pod.Spec.NodeName
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName
	case "status.hostIP":
		return pod.Status.HostIP
	case "status.podIP":
		return pod.Status.PodIP
	case "status.podIPs":
		return ips(pod.Status.PodIPs)
	case "status.hostIPs":
		var s []string
		for _, ip := range pod.Status.HostIPs {
			s = append(s, ip.IP)
		}
		return strings.Join(s, ",")
	}
	return ""
}

func describeMounts(w *prefixWriter, c *corev1.Container) {
	none := ""
	if len(c.VolumeMounts) == 0 {
		none = "\t<none>"
	}
	w.write(level2, "Mounts:%s\n", none)
	mounts := slices.Clone(c.VolumeMounts)
	sort.SliceStable(mounts, func(i, j int) bool { return mounts[i].MountPath < mounts[j].MountPath })
	for _, m := range mounts {
		flags := []string{"rw"}
		if m.ReadOnly {
			flags[0] = "ro"
		}
		if m.SubPath != "" {
			flags = append(flags, fmt.Sprintf("path=%q", m.SubPath))
		}
		w.write(level3, "%s from %s (%s)\n", m.MountPath, m.Name, strings.Join(flags, ","))
	}
	if len(c.VolumeDevices) > 0 {
		w.write(level2, "Devices:%s\n", none)
		devices := slices.Clone(c.VolumeDevices)
		sort.SliceStable(devices, func(i, j int) bool { return devices[i].DevicePath < devices[j].DevicePath })
		for _, dev := range devices {
			w.write(level3, "%s from %s\n", dev.DevicePath, dev.Name)
		}
	}
}

func describeVolumes(w *prefixWriter, volumes []corev1.Volume, space string) {
	if len(volumes) == 0 {
		w.write(level0, "%sVolumes:\t<none>\n", space)
		return
	}
	w.write(level0, "%sVolumes:\n", space)
	for _, v := range volumes {
		nameIndent := ""
		if space != "" {
			nameIndent = " "
		}
		w.write(level1, "%s%v:\n", nameIndent, v.Name)
		src := v.VolumeSource
		switch {
		case src.HostPath != nil:
			hostPathType := "<none>"
			if src.HostPath.Type != nil {
				hostPathType = string(*src.HostPath.Type)
			}
			w.write(level2, "Type:\tHostPath (bare host directory volume)\n    Path:\t%v\n    HostPathType:\t%v\n", src.HostPath.Path, hostPathType)
		case src.EmptyDir != nil:
			sizeLimit := "<unset>"
			if src.EmptyDir.SizeLimit != nil && src.EmptyDir.SizeLimit.Sign() > 0 {
				sizeLimit = src.EmptyDir.SizeLimit.String()
			}
			w.write(level2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t%v\n    SizeLimit:\t%v\n", src.EmptyDir.Medium, sizeLimit)
		case src.Secret != nil:
			optional := src.Secret.Optional != nil && *src.Secret.Optional
			w.write(level2, "Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t%v\n    Optional:\t%v\n", src.Secret.SecretName, optional)
		case src.ConfigMap != nil:
			optional := src.ConfigMap.Optional != nil && *src.ConfigMap.Optional
			w.write(level2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t%v\n    Optional:\t%v\n", src.ConfigMap.Name, optional)
		case src.PersistentVolumeClaim != nil:
			w.write(level2, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:\t%v\n    ReadOnly:\t%v\n",
				src.PersistentVolumeClaim.ClaimName, src.PersistentVolumeClaim.ReadOnly)
		case src.Ephemeral != nil:
			w.write(level2, "Type:\tEphemeralVolume (an inline specification for a volume that gets created and deleted with the pod)\n")
		case src.Projected != nil:
			describeProjected(w, src.Projected)
		case src.DownwardAPI != nil:
			w.write(level2, "Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n")
			for _, item := range src.DownwardAPI.Items {
				if item.FieldRef != nil {
					w.write(level3, "%v -> %v\n", item.FieldRef.FieldPath, item.Path)
				}
				if item.ResourceFieldRef != nil {
					w.write(level3, "%v -> %v\n", item.ResourceFieldRef.Resource, item.Path)
				}
			}
		case src.NFS != nil:
			w.write(level2, "Type:\tNFS (an NFS mount that lasts the lifetime of a pod)\n    Server:\t%v\n    Path:\t%v\n    ReadOnly:\t%v\n", src.NFS.Server, src.NFS.Path, src.NFS.ReadOnly)
		case src.CSI != nil:
			readOnly := src.CSI.ReadOnly != nil && *src.CSI.ReadOnly
			fsType := ""
			if src.CSI.FSType != nil {
				fsType = *src.CSI.FSType
			}
			w.write(level2, "Type:\tCSI (a Container Storage Interface (CSI) volume source)\n    Driver:\t%v\n    FSType:\t%v\n    ReadOnly:\t%v\n", src.CSI.Driver, fsType, readOnly)
		case src.Image != nil:
			w.write(level2, "Type:\tImage (a container image or OCI artifact)\n    Reference:\t%v\n    PullPolicy:\t%v\n", src.Image.Reference, src.Image.PullPolicy)
		default:
			w.write(level1, "<unknown>\n")
		}
	}
}

func describeProjected(w *prefixWriter, p *corev1.ProjectedVolumeSource) {
	w.write(level2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n")
	for _, s := range p.Sources {
		switch {
		case s.Secret != nil:
			optional := s.Secret.Optional != nil && *s.Secret.Optional
			w.write(level2, "SecretName:\t%v\n    Optional:\t%v\n", s.Secret.Name, optional)
		case s.DownwardAPI != nil:
			w.write(level2, "DownwardAPI:\ttrue\n")
		case s.ConfigMap != nil:
			optional := s.ConfigMap.Optional != nil && *s.ConfigMap.Optional
			w.write(level2, "ConfigMapName:\t%v\n    Optional:\t%v\n", s.ConfigMap.Name, optional)
		case s.ServiceAccountToken != nil:
			expiration := int64(0)
			if s.ServiceAccountToken.ExpirationSeconds != nil {
				expiration = *s.ServiceAccountToken.ExpirationSeconds
			}
			w.write(level2, "TokenExpirationSeconds:\t%d\n", expiration)
		}
	}
}

// printTolerations is kubectl's printPodTolerationsMultiline.
func printTolerations(w *prefixWriter, title string, tolerations []corev1.Toleration) {
	w.write(level0, "%s:\t", title)
	if len(tolerations) == 0 {
		w.writeLine("<none>")
		return
	}
	sorted := slices.Clone(tolerations)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key })
	for i, t := range sorted {
		if i != 0 {
			w.write(level0, "\t")
		}
		w.write(level0, "%s", t.Key)
		if t.Value != "" {
			w.write(level0, "=%s", t.Value)
		}
		if t.Effect != "" {
			w.write(level0, ":%s", t.Effect)
		}
		if t.Operator == corev1.TolerationOpExists && t.Value == "" {
			if t.Key != "" || t.Effect != "" {
				w.write(level0, " op=Exists")
			} else {
				w.write(level0, "op=Exists")
			}
		}
		if t.TolerationSeconds != nil {
			w.write(level0, " for %ds", *t.TolerationSeconds)
		}
		w.write(level0, "\n")
	}
}

func describeTopologySpreadConstraints(w *prefixWriter, tscs []corev1.TopologySpreadConstraint, space string) {
	if len(tscs) == 0 {
		return
	}
	sorted := slices.Clone(tscs)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].TopologyKey < sorted[j].TopologyKey })
	w.write(level0, "%sTopology Spread Constraints:\t", space)
	for i, c := range sorted {
		if i != 0 {
			w.write(level0, "%s\t", space)
		}
		w.write(level0, "%s:%v when max skew %d is exceeded", c.TopologyKey, c.WhenUnsatisfiable, c.MaxSkew)
		if c.LabelSelector != nil {
			w.write(level0, " for selector %s", metav1.FormatLabelSelector(c.LabelSelector))
		}
		w.write(level0, "\n")
	}
}

// podQOS is the pod's QoS class: the one in its status, else computed as
// the kubelet does from the containers' CPU and memory requests and limits.
func podQOS(pod *corev1.Pod) corev1.PodQOSClass {
	if pod.Status.QOSClass != "" {
		return pod.Status.QOSClass
	}
	requests := corev1.ResourceList{}
	limits := corev1.ResourceList{}
	guaranteed := true
	add := func(list corev1.ResourceList, name corev1.ResourceName, q resource.Quantity) {
		sum := q.DeepCopy()
		if have, ok := list[name]; ok {
			sum.Add(have)
		}
		list[name] = sum
	}
	supported := func(n corev1.ResourceName) bool { return n == corev1.ResourceCPU || n == corev1.ResourceMemory }
	var all []corev1.Container
	all = append(all, pod.Spec.Containers...)
	all = append(all, pod.Spec.InitContainers...)
	for _, c := range all {
		for name, q := range c.Resources.Requests {
			if supported(name) && q.Sign() > 0 {
				add(requests, name, q)
			}
		}
		found := map[corev1.ResourceName]bool{}
		for name, q := range c.Resources.Limits {
			if supported(name) && q.Sign() > 0 {
				found[name] = true
				add(limits, name, q)
			}
		}
		if !found[corev1.ResourceCPU] || !found[corev1.ResourceMemory] {
			guaranteed = false
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	if guaranteed {
		for name, req := range requests {
			if lim, ok := limits[name]; !ok || lim.Cmp(req) != 0 {
				guaranteed = false
				break
			}
		}
	}
	if guaranteed && len(requests) == len(limits) {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

// podRequestsAndLimits sums what a pod asks of its node: its containers
// and sidecars, or an init container with the sidecars started before it if
// that is more, plus the pod overhead.
func podRequestsAndLimits(pod *corev1.Pod) (reqs, limits corev1.ResourceList) {
	sum := func(dst, src corev1.ResourceList) {
		for name, q := range src {
			v := q.DeepCopy()
			if have, ok := dst[name]; ok {
				v.Add(have)
			}
			dst[name] = v
		}
	}
	maxInto := func(dst, src corev1.ResourceList) {
		for name, q := range src {
			if have, ok := dst[name]; !ok || q.Cmp(have) > 0 {
				dst[name] = q.DeepCopy()
			}
		}
	}
	reqs, limits = corev1.ResourceList{}, corev1.ResourceList{}
	for _, c := range pod.Spec.Containers {
		sum(reqs, c.Resources.Requests)
		sum(limits, c.Resources.Limits)
	}
	sidecarReqs, sidecarLimits := corev1.ResourceList{}, corev1.ResourceList{}
	initReqs, initLimits := corev1.ResourceList{}, corev1.ResourceList{}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if isRestartableInitContainer(c) {
			sum(reqs, c.Resources.Requests)
			sum(limits, c.Resources.Limits)
			sum(sidecarReqs, c.Resources.Requests)
			sum(sidecarLimits, c.Resources.Limits)
			continue
		}
		r, l := corev1.ResourceList{}, corev1.ResourceList{}
		sum(r, sidecarReqs)
		sum(r, c.Resources.Requests)
		sum(l, sidecarLimits)
		sum(l, c.Resources.Limits)
		maxInto(initReqs, r)
		maxInto(initLimits, l)
	}
	maxInto(reqs, initReqs)
	maxInto(limits, initLimits)
	sum(reqs, pod.Spec.Overhead)
	sum(limits, pod.Spec.Overhead)
	return reqs, limits
}
