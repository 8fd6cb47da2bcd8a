package api

import (
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Pods and pod templates: upstream's ValidatePodSpec and its helpers
// (k8s.io/kubernetes pkg/apis/core/validation), for the fields Weft serves.

func validatePod(pod *corev1.Pod) field.ErrorList {
	errs := validateMeta(&pod.ObjectMeta, true, nameIsDNSSubdomain)
	errs = append(errs, validateProxyConfigAnnotation(pod.Annotations, field.NewPath("metadata", "annotations"))...)
	errs = append(errs, validatePodSpec(&pod.Spec, field.NewPath("spec"))...)
	return errs
}

// validatePodTemplate checks the pod template of a workload at path
// (spec.template, spec.jobTemplate.spec.template...).
func validatePodTemplate(t *corev1.PodTemplateSpec, path *field.Path) field.ErrorList {
	errs := metav1validation.ValidateLabels(t.Labels, path.Child("metadata", "labels"))
	errs = append(errs, apivalidation.ValidateAnnotations(t.Annotations, path.Child("metadata", "annotations"))...)
	errs = append(errs, validateProxyConfigAnnotation(t.Annotations, path.Child("metadata", "annotations"))...)
	errs = append(errs, validatePodSpec(&t.Spec, path.Child("spec"))...)
	if len(t.Spec.EphemeralContainers) > 0 {
		errs = append(errs, field.Forbidden(path.Child("spec", "ephemeralContainers"), "ephemeral containers not allowed in pod template"))
	}
	return errs
}

// validateWorkloadTemplate adds what every controller of long-running pods
// (ReplicaSet, ReplicationController, Deployment, StatefulSet, DaemonSet)
// asks of its template: restartPolicy Always and no activeDeadlineSeconds.
func validateWorkloadTemplate(t *corev1.PodTemplateSpec, path *field.Path, kind string) field.ErrorList {
	errs := validatePodTemplate(t, path)
	specPath := path.Child("spec")
	if t.Spec.RestartPolicy != "" && t.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(specPath.Child("restartPolicy"), t.Spec.RestartPolicy, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if t.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Invalid(specPath.Child("activeDeadlineSeconds"), *t.Spec.ActiveDeadlineSeconds, "activeDeadlineSeconds in "+kind+" is not Supported"))
	}
	return errs
}

func validatePodSpec(spec *corev1.PodSpec, p *field.Path) field.ErrorList {
	vols, errs := validateVolumes(spec.Volumes, p.Child("volumes"))
	errs = append(errs, validateContainers(spec, vols, p)...)
	errs = append(errs, kubeEnum(spec.RestartPolicy, p.Child("restartPolicy"),
		corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever)...)
	errs = append(errs, kubeEnum(spec.DNSPolicy, p.Child("dnsPolicy"),
		corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone)...)
	errs = append(errs, validateDNSConfig(spec.DNSConfig, spec.DNSPolicy, p.Child("dnsConfig"))...)
	errs = append(errs, metav1validation.ValidateLabels(spec.NodeSelector, p.Child("nodeSelector"))...)
	if spec.ServiceAccountName != "" {
		for _, msg := range nameIsDNSSubdomain(spec.ServiceAccountName, false) {
			errs = append(errs, field.Invalid(p.Child("serviceAccountName"), spec.ServiceAccountName, msg))
		}
	}
	if spec.NodeName != "" {
		for _, msg := range nameIsDNSSubdomain(spec.NodeName, false) {
			errs = append(errs, field.Invalid(p.Child("nodeName"), spec.NodeName, msg))
		}
	}
	if spec.ActiveDeadlineSeconds != nil {
		if v := *spec.ActiveDeadlineSeconds; v < 1 || v > math.MaxInt32 {
			errs = append(errs, field.Invalid(p.Child("activeDeadlineSeconds"), v, validation.InclusiveRangeError(1, math.MaxInt32)))
		}
	}
	if spec.TerminationGracePeriodSeconds != nil {
		errs = append(errs, kubeNonNegative(*spec.TerminationGracePeriodSeconds, p.Child("terminationGracePeriodSeconds"))...)
	}
	if spec.Hostname != "" {
		errs = append(errs, kubeDNSLabel(spec.Hostname, p.Child("hostname"))...)
	}
	if spec.Subdomain != "" {
		errs = append(errs, kubeDNSLabel(spec.Subdomain, p.Child("subdomain"))...)
	}
	if spec.PriorityClassName != "" {
		errs = append(errs, kubeDNSSubdomain(spec.PriorityClassName, p.Child("priorityClassName"))...)
	}
	if spec.RuntimeClassName != nil {
		errs = append(errs, kubeDNSSubdomain(*spec.RuntimeClassName, p.Child("runtimeClassName"))...)
	}
	if spec.ShareProcessNamespace != nil && *spec.ShareProcessNamespace && spec.HostPID {
		errs = append(errs, field.Invalid(p.Child("shareProcessNamespace"), true, "ShareProcessNamespace and HostPID cannot both be enabled"))
	}
	if spec.OS != nil {
		errs = append(errs, kubeEnum(spec.OS.Name, p.Child("os", "name"), corev1.Linux, corev1.Windows)...)
	}
	errs = append(errs, validatePodSecurityContext(spec.SecurityContext, p.Child("securityContext"))...)
	errs = append(errs, validateAffinity(spec.Affinity, p.Child("affinity"))...)
	errs = append(errs, validateTolerations(spec.Tolerations, p.Child("tolerations"))...)
	for i, ha := range spec.HostAliases {
		ip := p.Child("hostAliases").Index(i)
		errs = append(errs, kubeIP(ha.IP, ip.Child("ip"))...)
		for j, h := range ha.Hostnames {
			errs = append(errs, kubeDNSSubdomain(h, ip.Child("hostnames").Index(j))...)
		}
	}
	for _, name := range sortedKeys(spec.Overhead) {
		q := spec.Overhead[name]
		errs = append(errs, validateResourceName(string(name), p.Child("overhead").Key(string(name)))...)
		errs = append(errs, kubeQuantityNonNegative(q, p.Child("overhead").Key(string(name)))...)
	}
	if spec.Resources != nil {
		errs = append(errs, validateResources(spec.Resources, p.Child("resources"))...)
	}
	for i, c := range spec.TopologySpreadConstraints {
		ip := p.Child("topologySpreadConstraints").Index(i)
		errs = append(errs, kubePositive(int64(c.MaxSkew), ip.Child("maxSkew"))...)
		if c.TopologyKey == "" {
			errs = append(errs, field.Required(ip.Child("topologyKey"), "can not be empty"))
		} else {
			errs = append(errs, kubeQualifiedName(c.TopologyKey, ip.Child("topologyKey"))...)
		}
		errs = append(errs, kubeEnum(c.WhenUnsatisfiable, ip.Child("whenUnsatisfiable"), corev1.DoNotSchedule, corev1.ScheduleAnyway)...)
		errs = append(errs, kubeLabelSelector(c.LabelSelector, ip.Child("labelSelector"))...)
	}
	for i, g := range spec.ReadinessGates {
		errs = append(errs, kubeQualifiedName(string(g.ConditionType), p.Child("readinessGates").Index(i).Child("conditionType"))...)
	}
	gates := map[string]bool{}
	for i, g := range spec.SchedulingGates {
		ip := p.Child("schedulingGates").Index(i).Child("name")
		errs = append(errs, kubeQualifiedName(g.Name, ip)...)
		if gates[g.Name] {
			errs = append(errs, field.Duplicate(ip, g.Name))
		}
		gates[g.Name] = true
	}
	if spec.HostNetwork {
		for _, cl := range []struct {
			name string
			cs   []corev1.Container
		}{{"initContainers", spec.InitContainers}, {"containers", spec.Containers}} {
			for i, c := range cl.cs {
				for j, port := range c.Ports {
					if port.HostPort != 0 && port.HostPort != port.ContainerPort {
						errs = append(errs, field.Invalid(p.Child(cl.name).Index(i).Child("ports").Index(j).Child("hostPort"), port.HostPort, "must match `containerPort` when `hostNetwork` is true"))
					}
				}
			}
		}
	}
	return errs
}

// Volumes.

var (
	supportedHostPathTypes = []corev1.HostPathType{corev1.HostPathUnset, corev1.HostPathDirectoryOrCreate, corev1.HostPathDirectory,
		corev1.HostPathFileOrCreate, corev1.HostPathFile, corev1.HostPathSocket, corev1.HostPathCharDev, corev1.HostPathBlockDev}
	// Field paths a downward API volume file may expose (plus subscripted
	// labels and annotations).
	volumeDownwardAPIFieldPaths = []string{"metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"}
	// Field paths an environment variable may take its value from.
	envDownwardAPIFieldPaths = []string{"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
		"spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"}
	downwardAPIResources = []string{"limits.cpu", "limits.ephemeral-storage", "limits.memory",
		"requests.cpu", "requests.ephemeral-storage", "requests.memory"}
)

const fileModeErrorMsg = "must be a number between 0 and 0777 (octal), both inclusive"

func validateVolumes(vols []corev1.Volume, p *field.Path) (map[string]*corev1.Volume, field.ErrorList) {
	var errs field.ErrorList
	byName := map[string]*corev1.Volume{}
	for i := range vols {
		v := &vols[i]
		ip := p.Index(i)
		if v.Name == "" {
			errs = append(errs, field.Required(ip.Child("name"), ""))
		} else {
			errs = append(errs, kubeDNSLabel(v.Name, ip.Child("name"))...)
			if _, dup := byName[v.Name]; dup {
				errs = append(errs, field.Duplicate(ip.Child("name"), v.Name))
			} else {
				byName[v.Name] = v
			}
		}
		errs = append(errs, validateVolumeSource(&v.VolumeSource, ip)...)
	}
	return byName, errs
}

func validateVolumeSource(vs *corev1.VolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	sources := setPointerFields(vs)
	switch {
	case len(sources) == 0:
		return field.ErrorList{field.Required(p, "must specify a volume type")}
	case len(sources) > 1:
		for _, s := range sources[1:] {
			errs = append(errs, field.Forbidden(p.Child(s), "may not specify more than 1 volume type"))
		}
	}
	if s := vs.EmptyDir; s != nil {
		sp := p.Child("emptyDir")
		if m := s.Medium; m != corev1.StorageMediumDefault && m != corev1.StorageMediumMemory && !strings.HasPrefix(string(m), string(corev1.StorageMediumHugePages)) {
			errs = append(errs, field.NotSupported(sp.Child("medium"), m, []corev1.StorageMedium{corev1.StorageMediumDefault, corev1.StorageMediumMemory, corev1.StorageMediumHugePages}))
		}
		if s.SizeLimit != nil {
			errs = append(errs, kubeQuantityNonNegative(*s.SizeLimit, sp.Child("sizeLimit"))...)
		}
	}
	if s := vs.HostPath; s != nil {
		errs = append(errs, validateHostPath(s, p.Child("hostPath"))...)
	}
	if s := vs.Secret; s != nil {
		sp := p.Child("secret")
		if s.SecretName == "" {
			errs = append(errs, field.Required(sp.Child("secretName"), ""))
		} else {
			errs = append(errs, kubeDNSSubdomain(s.SecretName, sp.Child("secretName"))...)
		}
		errs = append(errs, validateFileMode(s.DefaultMode, sp.Child("defaultMode"))...)
		errs = append(errs, validateKeyToPaths(s.Items, sp.Child("items"))...)
	}
	if s := vs.ConfigMap; s != nil {
		sp := p.Child("configMap")
		if s.Name == "" {
			errs = append(errs, field.Required(sp.Child("name"), ""))
		} else {
			errs = append(errs, kubeDNSSubdomain(s.Name, sp.Child("name"))...)
		}
		errs = append(errs, validateFileMode(s.DefaultMode, sp.Child("defaultMode"))...)
		errs = append(errs, validateKeyToPaths(s.Items, sp.Child("items"))...)
	}
	if s := vs.PersistentVolumeClaim; s != nil {
		if s.ClaimName == "" {
			errs = append(errs, field.Required(p.Child("persistentVolumeClaim", "claimName"), ""))
		}
	}
	if s := vs.DownwardAPI; s != nil {
		sp := p.Child("downwardAPI")
		errs = append(errs, validateFileMode(s.DefaultMode, sp.Child("defaultMode"))...)
		errs = append(errs, validateDownwardAPIFiles(s.Items, sp.Child("items"))...)
	}
	if s := vs.Projected; s != nil {
		errs = append(errs, validateProjected(s, p.Child("projected"))...)
	}
	if s := vs.Image; s != nil {
		sp := p.Child("image")
		if s.Reference == "" {
			errs = append(errs, field.Required(sp.Child("reference"), ""))
		}
		errs = append(errs, kubeOptionalEnum(s.PullPolicy, sp.Child("pullPolicy"), corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever)...)
	}
	if s := vs.Ephemeral; s != nil {
		sp := p.Child("ephemeral", "volumeClaimTemplate")
		if s.VolumeClaimTemplate == nil {
			errs = append(errs, field.Required(sp, ""))
		} else {
			errs = append(errs, validatePVCSpec(&s.VolumeClaimTemplate.Spec, sp.Child("spec"))...)
		}
	}
	return errs
}

func validateHostPath(s *corev1.HostPathVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Path == "" {
		errs = append(errs, field.Required(p.Child("path"), ""))
	} else {
		errs = append(errs, validatePathNoBacksteps(s.Path, p.Child("path"))...)
	}
	if s.Type != nil && !oneOf(*s.Type, supportedHostPathTypes...) {
		errs = append(errs, field.NotSupported(p.Child("type"), *s.Type, supportedHostPathTypes))
	}
	return errs
}

func validateFileMode(mode *int32, p *field.Path) field.ErrorList {
	if mode != nil && (*mode > 0777 || *mode < 0) {
		return field.ErrorList{field.Invalid(p, *mode, fileModeErrorMsg)}
	}
	return nil
}

func validateKeyToPaths(items []corev1.KeyToPath, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, kp := range items {
		ip := p.Index(i)
		if kp.Key == "" {
			errs = append(errs, field.Required(ip.Child("key"), ""))
		}
		errs = append(errs, validateLocalNonReservedPath(kp.Path, ip.Child("path"))...)
		errs = append(errs, validateFileMode(kp.Mode, ip.Child("mode"))...)
	}
	return errs
}

func validateDownwardAPIFiles(items []corev1.DownwardAPIVolumeFile, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, f := range items {
		ip := p.Index(i)
		errs = append(errs, validateLocalNonReservedPath(f.Path, ip.Child("path"))...)
		errs = append(errs, validateFileMode(f.Mode, ip.Child("mode"))...)
		switch {
		case f.FieldRef != nil && f.ResourceFieldRef != nil:
			errs = append(errs, field.Invalid(ip, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
		case f.FieldRef != nil:
			errs = append(errs, validateObjectFieldSelector(f.FieldRef, volumeDownwardAPIFieldPaths, ip.Child("fieldRef"))...)
		case f.ResourceFieldRef != nil:
			errs = append(errs, validateResourceFieldSelector(f.ResourceFieldRef, true, ip.Child("resourceFieldRef"))...)
		default:
			errs = append(errs, field.Required(ip, "one of fieldRef and resourceFieldRef is required"))
		}
	}
	return errs
}

func validateProjected(s *corev1.ProjectedVolumeSource, p *field.Path) field.ErrorList {
	errs := validateFileMode(s.DefaultMode, p.Child("defaultMode"))
	paths := map[string]bool{}
	addPath := func(f string, fp *field.Path) {
		if paths[f] {
			errs = append(errs, field.Invalid(fp, f, "conflicting duplicate paths"))
		}
		paths[f] = true
	}
	for i := range s.Sources {
		src := &s.Sources[i]
		sp := p.Child("sources").Index(i)
		set := setPointerFields(src)
		if len(set) == 0 {
			errs = append(errs, field.Required(sp, "must specify exactly 1 of secret, configMap, downwardAPI, serviceAccountToken, clusterTrustBundle or podCertificate"))
			continue
		}
		for _, name := range set[1:] {
			errs = append(errs, field.Forbidden(sp.Child(name), "may not specify more than 1 volume type per source"))
		}
		if s := src.Secret; s != nil {
			if s.Name == "" {
				errs = append(errs, field.Required(sp.Child("secret", "name"), ""))
			}
			errs = append(errs, validateKeyToPaths(s.Items, sp.Child("secret", "items"))...)
			for j, kp := range s.Items {
				addPath(kp.Path, sp.Child("secret", "items").Index(j).Child("path"))
			}
		}
		if s := src.ConfigMap; s != nil {
			if s.Name == "" {
				errs = append(errs, field.Required(sp.Child("configMap", "name"), ""))
			}
			errs = append(errs, validateKeyToPaths(s.Items, sp.Child("configMap", "items"))...)
			for j, kp := range s.Items {
				addPath(kp.Path, sp.Child("configMap", "items").Index(j).Child("path"))
			}
		}
		if s := src.DownwardAPI; s != nil {
			errs = append(errs, validateDownwardAPIFiles(s.Items, sp.Child("downwardAPI", "items"))...)
			for j, f := range s.Items {
				addPath(f.Path, sp.Child("downwardAPI", "items").Index(j).Child("path"))
			}
		}
		if s := src.ServiceAccountToken; s != nil {
			tp := sp.Child("serviceAccountToken")
			if s.ExpirationSeconds != nil {
				switch e := *s.ExpirationSeconds; {
				case e < 600:
					errs = append(errs, field.Invalid(tp.Child("expirationSeconds"), e, "may not specify a duration less than 10 minutes"))
				case e > 1<<32:
					errs = append(errs, field.Invalid(tp.Child("expirationSeconds"), e, "may not specify a duration larger than 2^32 seconds"))
				}
			}
			if s.Path == "" {
				errs = append(errs, field.Required(tp.Child("path"), ""))
			} else {
				errs = append(errs, validateLocalNonReservedPath(s.Path, tp.Child("path"))...)
				addPath(s.Path, tp.Child("path"))
			}
		}
	}
	return errs
}

// validateLocalDescendingPath: relative, without "..".
func validateLocalDescendingPath(target string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if path.IsAbs(target) {
		errs = append(errs, field.Invalid(p, target, "must be a relative path"))
	}
	return append(errs, validatePathNoBacksteps(target, p)...)
}

func validatePathNoBacksteps(target string, p *field.Path) field.ErrorList {
	for _, part := range strings.Split(target, "/") {
		if part == ".." {
			return field.ErrorList{field.Invalid(p, target, "must not contain '..'")}
		}
	}
	return nil
}

// validateLocalNonReservedPath: a descending path that does not start with
// ".." (reserved for the atomic writer's own files).
func validateLocalNonReservedPath(target string, p *field.Path) field.ErrorList {
	if target == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	errs := validateLocalDescendingPath(target, p)
	if strings.HasPrefix(target, "..") && !strings.HasPrefix(target, "../") {
		errs = append(errs, field.Invalid(p, target, "must not start with '..'"))
	}
	return errs
}

// Containers.

type containerKind int

const (
	regularContainer containerKind = iota
	initContainer
)

func validateContainers(spec *corev1.PodSpec, vols map[string]*corev1.Volume, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(spec.Containers) == 0 {
		errs = append(errs, field.Required(p.Child("containers"), ""))
	}
	names := map[string]bool{}
	for i := range spec.InitContainers {
		errs = append(errs, validateContainer(&spec.InitContainers[i], initContainer, spec, vols, names, p.Child("initContainers").Index(i))...)
	}
	for i := range spec.Containers {
		errs = append(errs, validateContainer(&spec.Containers[i], regularContainer, spec, vols, names, p.Child("containers").Index(i))...)
	}
	for i := range spec.EphemeralContainers {
		ec := &spec.EphemeralContainers[i]
		ip := p.Child("ephemeralContainers").Index(i)
		errs = append(errs, validateContainerName(ec.Name, names, ip.Child("name"))...)
		if ec.Image == "" {
			errs = append(errs, field.Required(ip.Child("image"), ""))
		}
		if t := ec.TargetContainerName; t != "" && !names[t] {
			errs = append(errs, field.NotFound(ip.Child("targetContainerName"), t))
		}
	}
	errs = append(errs, validateHostPortConflicts(spec.InitContainers, p.Child("initContainers"))...)
	errs = append(errs, validateHostPortConflicts(spec.Containers, p.Child("containers"))...)
	return errs
}

func validateContainerName(name string, seen map[string]bool, p *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	errs := kubeDNSLabel(name, p)
	if seen[name] {
		errs = append(errs, field.Duplicate(p, name))
	}
	seen[name] = true
	return errs
}

// validateHostPortConflicts rejects two ports asking for the same host port,
// protocol and host IP.
func validateHostPortConflicts(cs []corev1.Container, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, c := range cs {
		for j, port := range c.Ports {
			if port.HostPort == 0 {
				continue
			}
			key := fmt.Sprintf("%s/%s/%d", port.Protocol, port.HostIP, port.HostPort)
			if seen[key] {
				errs = append(errs, field.Duplicate(p.Index(i).Child("ports").Index(j).Child("hostPort"), key))
			}
			seen[key] = true
		}
	}
	return errs
}

func validateContainer(c *corev1.Container, kind containerKind, spec *corev1.PodSpec, vols map[string]*corev1.Volume, names map[string]bool, p *field.Path) field.ErrorList {
	errs := validateContainerName(c.Name, names, p.Child("name"))
	if c.Image == "" {
		errs = append(errs, field.Required(p.Child("image"), ""))
	} else if strings.TrimSpace(c.Image) != c.Image {
		errs = append(errs, field.Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	errs = append(errs, kubeEnum(c.ImagePullPolicy, p.Child("imagePullPolicy"), corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever)...)
	errs = append(errs, kubeEnum(c.TerminationMessagePolicy, p.Child("terminationMessagePolicy"),
		corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError)...)
	errs = append(errs, validateContainerPorts(c.Ports, p.Child("ports"))...)
	errs = append(errs, validateEnv(c.Env, p.Child("env"))...)
	errs = append(errs, validateEnvFrom(c.EnvFrom, p.Child("envFrom"))...)
	errs = append(errs, validateVolumeMounts(c, vols, p.Child("volumeMounts"))...)
	errs = append(errs, validateResources(&c.Resources, p.Child("resources"))...)
	errs = append(errs, validateSecurityContext(c.SecurityContext, p.Child("securityContext"))...)

	restartable := false
	if c.RestartPolicy != nil {
		rp := p.Child("restartPolicy")
		if kind == initContainer {
			if *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
				errs = append(errs, field.NotSupported(rp, *c.RestartPolicy, []corev1.ContainerRestartPolicy{corev1.ContainerRestartPolicyAlways}))
			}
			restartable = *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
		} else {
			errs = append(errs, kubeEnum(*c.RestartPolicy, rp, corev1.ContainerRestartPolicyAlways, corev1.ContainerRestartPolicyOnFailure, corev1.ContainerRestartPolicyNever)...)
		}
	}

	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if spec.TerminationGracePeriodSeconds != nil {
		grace = *spec.TerminationGracePeriodSeconds
	}
	if kind == initContainer && !restartable {
		// Plain init containers run to completion: no probes, no hooks.
		for _, f := range []struct {
			name string
			set  bool
		}{{"lifecycle", c.Lifecycle != nil}, {"livenessProbe", c.LivenessProbe != nil}, {"readinessProbe", c.ReadinessProbe != nil}, {"startupProbe", c.StartupProbe != nil}} {
			if f.set {
				errs = append(errs, field.Forbidden(p.Child(f.name), "may not be set for init containers without restartPolicy=Always"))
			}
		}
		return errs
	}
	errs = append(errs, validateLifecycle(c.Lifecycle, spec, grace, p.Child("lifecycle"))...)
	errs = append(errs, validateProbe(c.LivenessProbe, p.Child("livenessProbe"), true)...)
	errs = append(errs, validateProbe(c.ReadinessProbe, p.Child("readinessProbe"), false)...)
	errs = append(errs, validateProbe(c.StartupProbe, p.Child("startupProbe"), true)...)
	if c.ReadinessProbe != nil && c.ReadinessProbe.TerminationGracePeriodSeconds != nil {
		errs = append(errs, field.Invalid(p.Child("readinessProbe", "terminationGracePeriodSeconds"), *c.ReadinessProbe.TerminationGracePeriodSeconds, "must not be set for readinessProbes"))
	}
	return errs
}

func validateContainerPorts(ports []corev1.ContainerPort, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, port := range ports {
		ip := p.Index(i)
		if port.Name != "" {
			errs = append(errs, kubePortName(port.Name, ip.Child("name"))...)
			if names[port.Name] {
				errs = append(errs, field.Duplicate(ip.Child("name"), port.Name))
			}
			names[port.Name] = true
		}
		if port.ContainerPort == 0 {
			errs = append(errs, field.Required(ip.Child("containerPort"), ""))
		} else {
			errs = append(errs, kubePortNum(port.ContainerPort, ip.Child("containerPort"))...)
		}
		if port.HostPort != 0 {
			errs = append(errs, kubePortNum(port.HostPort, ip.Child("hostPort"))...)
		}
		if port.HostIP != "" {
			errs = append(errs, kubeIP(port.HostIP, ip.Child("hostIP"))...)
		}
		errs = append(errs, kubeProtocol(port.Protocol, ip.Child("protocol"))...)
	}
	return errs
}

func validateEnvVarName(name string, p *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	var errs field.ErrorList
	for _, msg := range validation.IsRelaxedEnvVarName(name) {
		errs = append(errs, field.Invalid(p, name, msg))
	}
	return errs
}

func validateEnv(env []corev1.EnvVar, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ev := range env {
		ip := p.Index(i)
		errs = append(errs, validateEnvVarName(ev.Name, ip.Child("name"))...)
		if ev.ValueFrom == nil {
			continue
		}
		vp := ip.Child("valueFrom")
		if ev.Value != "" {
			errs = append(errs, field.Invalid(vp, "", "may not be specified when `value` is not empty"))
		}
		set := setPointerFields(ev.ValueFrom)
		switch {
		case len(set) == 0:
			errs = append(errs, field.Invalid(vp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef`, `secretKeyRef` or `fileKeyRef`"))
		case len(set) > 1:
			errs = append(errs, field.Invalid(vp, "", "may not have more than one field specified at a time"))
		}
		vf := ev.ValueFrom
		if vf.FieldRef != nil {
			errs = append(errs, validateObjectFieldSelector(vf.FieldRef, envDownwardAPIFieldPaths, vp.Child("fieldRef"))...)
		}
		if vf.ResourceFieldRef != nil {
			errs = append(errs, validateResourceFieldSelector(vf.ResourceFieldRef, false, vp.Child("resourceFieldRef"))...)
		}
		if r := vf.ConfigMapKeyRef; r != nil {
			errs = append(errs, validateKeySelector(r.Name, r.Key, vp.Child("configMapKeyRef"))...)
		}
		if r := vf.SecretKeyRef; r != nil {
			errs = append(errs, validateKeySelector(r.Name, r.Key, vp.Child("secretKeyRef"))...)
		}
		if r := vf.FileKeyRef; r != nil {
			fp := vp.Child("fileKeyRef")
			if r.VolumeName == "" {
				errs = append(errs, field.Required(fp.Child("volumeName"), ""))
			}
			errs = append(errs, validateLocalNonReservedPath(r.Path, fp.Child("path"))...)
			errs = append(errs, validateEnvVarName(r.Key, fp.Child("key"))...)
		}
	}
	return errs
}

func validateKeySelector(name, key string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range nameIsDNSSubdomain(name, false) {
		errs = append(errs, field.Invalid(p.Child("name"), name, msg))
	}
	if key == "" {
		errs = append(errs, field.Required(p.Child("key"), ""))
	} else {
		for _, msg := range validation.IsConfigMapKey(key) {
			errs = append(errs, field.Invalid(p.Child("key"), key, msg))
		}
	}
	return errs
}

// validateObjectFieldSelector checks a downward API field reference:
// apiVersion v1 and one of the paths allowed where it is used, or a
// subscripted label or annotation (metadata.labels['app']).
func validateObjectFieldSelector(fs *corev1.ObjectFieldSelector, allowed []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if fs.APIVersion == "" {
		errs = append(errs, field.Required(p.Child("apiVersion"), ""))
	} else if fs.APIVersion != "v1" {
		errs = append(errs, field.Invalid(p.Child("apiVersion"), fs.APIVersion, "unsupported version"))
	}
	fp := p.Child("fieldPath")
	if fs.FieldPath == "" {
		return append(errs, field.Required(fp, ""))
	}
	for _, prefix := range []string{"metadata.labels", "metadata.annotations"} {
		rest, ok := strings.CutPrefix(fs.FieldPath, prefix+"[")
		if !ok {
			continue
		}
		key, ok := strings.CutSuffix(rest, "]")
		if !ok || len(key) < 2 || (key[0] != '\'' || key[len(key)-1] != '\'') && (key[0] != '"' || key[len(key)-1] != '"') {
			return append(errs, field.Invalid(fp, fs.FieldPath, "must be of the form "+prefix+"['<key>']"))
		}
		key = key[1 : len(key)-1]
		if prefix == "metadata.annotations" {
			key = strings.ToLower(key)
		}
		for _, msg := range validation.IsQualifiedName(key) {
			errs = append(errs, field.Invalid(fp, fs.FieldPath, msg))
		}
		return errs
	}
	if !oneOf(fs.FieldPath, allowed...) {
		errs = append(errs, field.NotSupported(fp, fs.FieldPath, allowed))
	}
	return errs
}

func validateResourceFieldSelector(rs *corev1.ResourceFieldSelector, inVolume bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if inVolume && rs.ContainerName == "" {
		errs = append(errs, field.Required(p.Child("containerName"), ""))
	}
	switch {
	case rs.Resource == "":
		errs = append(errs, field.Required(p.Child("resource"), ""))
	case strings.HasPrefix(rs.Resource, "limits.hugepages-"), strings.HasPrefix(rs.Resource, "requests.hugepages-"):
	case !oneOf(rs.Resource, downwardAPIResources...):
		errs = append(errs, field.NotSupported(p.Child("resource"), rs.Resource, downwardAPIResources))
	}
	if rs.Divisor.Sign() < 0 {
		errs = append(errs, field.Invalid(p.Child("divisor"), rs.Divisor.String(), "must be greater than or equal to 0"))
	}
	return errs
}

func validateEnvFrom(envFrom []corev1.EnvFromSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ef := range envFrom {
		ip := p.Index(i)
		if ef.Prefix != "" {
			for _, msg := range validation.IsRelaxedEnvVarName(ef.Prefix) {
				errs = append(errs, field.Invalid(ip.Child("prefix"), ef.Prefix, msg))
			}
		}
		n := 0
		if r := ef.ConfigMapRef; r != nil {
			n++
			for _, msg := range nameIsDNSSubdomain(r.Name, false) {
				errs = append(errs, field.Invalid(ip.Child("configMapRef", "name"), r.Name, msg))
			}
		}
		if r := ef.SecretRef; r != nil {
			n++
			for _, msg := range nameIsDNSSubdomain(r.Name, false) {
				errs = append(errs, field.Invalid(ip.Child("secretRef", "name"), r.Name, msg))
			}
		}
		switch {
		case n == 0:
			errs = append(errs, field.Invalid(ip, "", "must specify one of: `configMapRef` or `secretRef`"))
		case n > 1:
			errs = append(errs, field.Invalid(ip, "", "may not have more than one field specified at a time"))
		}
	}
	return errs
}

func validateVolumeMounts(c *corev1.Container, vols map[string]*corev1.Volume, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	mountPaths := map[string]bool{}
	for i, m := range c.VolumeMounts {
		ip := p.Index(i)
		if m.Name == "" {
			errs = append(errs, field.Required(ip.Child("name"), ""))
		} else if _, ok := vols[m.Name]; !ok {
			errs = append(errs, field.NotFound(ip.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, field.Required(ip.Child("mountPath"), ""))
		} else if mountPaths[m.MountPath] {
			errs = append(errs, field.Invalid(ip.Child("mountPath"), m.MountPath, "must be unique"))
		}
		mountPaths[m.MountPath] = true
		if m.SubPath != "" {
			errs = append(errs, validateLocalDescendingPath(m.SubPath, ip.Child("subPath"))...)
		}
		if m.SubPathExpr != "" {
			if m.SubPath != "" {
				errs = append(errs, field.Invalid(ip.Child("subPathExpr"), m.SubPathExpr, "subPathExpr and subPath are mutually exclusive"))
			}
			errs = append(errs, validateLocalDescendingPath(m.SubPathExpr, ip.Child("subPathExpr"))...)
		}
		if mp := m.MountPropagation; mp != nil {
			pp := ip.Child("mountPropagation")
			errs = append(errs, kubeEnum(*mp, pp, corev1.MountPropagationNone, corev1.MountPropagationHostToContainer, corev1.MountPropagationBidirectional)...)
			privileged := c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged
			if *mp == corev1.MountPropagationBidirectional && !privileged {
				errs = append(errs, field.Forbidden(pp, "Bidirectional mount propagation is available only to privileged containers"))
			}
		}
	}
	return errs
}

func validateProbe(pr *corev1.Probe, p *field.Path, mustSucceedOnce bool) field.ErrorList {
	if pr == nil {
		return nil
	}
	errs := validateProbeHandler(&pr.ProbeHandler, p)
	errs = append(errs, kubeNonNegative(int64(pr.InitialDelaySeconds), p.Child("initialDelaySeconds"))...)
	errs = append(errs, kubeNonNegative(int64(pr.TimeoutSeconds), p.Child("timeoutSeconds"))...)
	errs = append(errs, kubeNonNegative(int64(pr.PeriodSeconds), p.Child("periodSeconds"))...)
	errs = append(errs, kubeNonNegative(int64(pr.SuccessThreshold), p.Child("successThreshold"))...)
	errs = append(errs, kubeNonNegative(int64(pr.FailureThreshold), p.Child("failureThreshold"))...)
	if mustSucceedOnce && pr.SuccessThreshold != 1 {
		errs = append(errs, field.Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be 1"))
	}
	if g := pr.TerminationGracePeriodSeconds; g != nil && *g <= 0 {
		errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *g, "must be greater than 0"))
	}
	return errs
}

func validateProbeHandler(h *corev1.ProbeHandler, p *field.Path) field.ErrorList {
	set := setPointerFields(h)
	if len(set) == 0 {
		return field.ErrorList{field.Required(p, "must specify a handler type")}
	}
	var errs field.ErrorList
	for _, name := range set[1:] {
		errs = append(errs, field.Forbidden(p.Child(name), "may not specify more than 1 handler type"))
	}
	if h.Exec != nil && len(h.Exec.Command) == 0 {
		errs = append(errs, field.Required(p.Child("exec", "command"), ""))
	}
	errs = append(errs, validateHTTPGet(h.HTTPGet, p.Child("httpGet"))...)
	if h.TCPSocket != nil {
		errs = append(errs, kubePortNumOrName(h.TCPSocket.Port, p.Child("tcpSocket", "port"))...)
	}
	if h.GRPC != nil {
		errs = append(errs, kubePortNum(h.GRPC.Port, p.Child("grpc", "port"))...)
	}
	return errs
}

func validateHTTPGet(h *corev1.HTTPGetAction, p *field.Path) field.ErrorList {
	if h == nil {
		return nil
	}
	var errs field.ErrorList
	if h.Path == "" {
		errs = append(errs, field.Required(p.Child("path"), ""))
	}
	errs = append(errs, kubePortNumOrName(h.Port, p.Child("port"))...)
	errs = append(errs, kubeEnum(h.Scheme, p.Child("scheme"), corev1.URISchemeHTTP, corev1.URISchemeHTTPS)...)
	for i, hdr := range h.HTTPHeaders {
		for _, msg := range validation.IsHTTPHeaderName(hdr.Name) {
			errs = append(errs, field.Invalid(p.Child("httpHeaders").Index(i).Child("name"), hdr.Name, msg))
		}
	}
	return errs
}

func validateLifecycle(lc *corev1.Lifecycle, spec *corev1.PodSpec, grace int64, p *field.Path) field.ErrorList {
	if lc == nil {
		return nil
	}
	var errs field.ErrorList
	for _, hook := range []struct {
		name string
		h    *corev1.LifecycleHandler
	}{{"postStart", lc.PostStart}, {"preStop", lc.PreStop}} {
		if hook.h == nil {
			continue
		}
		hp := p.Child(hook.name)
		set := setPointerFields(hook.h)
		if len(set) == 0 {
			errs = append(errs, field.Required(hp, "must specify a handler type"))
			continue
		}
		for _, name := range set[1:] {
			errs = append(errs, field.Forbidden(hp.Child(name), "may not specify more than 1 handler type"))
		}
		if hook.h.Exec != nil && len(hook.h.Exec.Command) == 0 {
			errs = append(errs, field.Required(hp.Child("exec", "command"), ""))
		}
		errs = append(errs, validateHTTPGet(hook.h.HTTPGet, hp.Child("httpGet"))...)
		if hook.h.TCPSocket != nil {
			errs = append(errs, kubePortNumOrName(hook.h.TCPSocket.Port, hp.Child("tcpSocket", "port"))...)
		}
		if s := hook.h.Sleep; s != nil && (s.Seconds < 0 || s.Seconds > grace) {
			errs = append(errs, field.Invalid(hp.Child("sleep", "seconds"), s.Seconds,
				fmt.Sprintf("must be non-negative and less than terminationGracePeriodSeconds (%d)", grace)))
		}
	}
	if lc.StopSignal != nil && (spec.OS == nil || spec.OS.Name == "") {
		errs = append(errs, field.Forbidden(p.Child("stopSignal"), "may not be set for containers with empty `spec.os.name`"))
	}
	return errs
}

// Resources.

func isStandardContainerResource(name string) bool {
	switch corev1.ResourceName(name) {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
		return true
	}
	return strings.HasPrefix(name, corev1.ResourceHugePagesPrefix)
}

// isNativeResource: no domain, or a kubernetes.io domain.
func isNativeResource(name string) bool {
	return !strings.Contains(name, "/") || strings.Contains(name, corev1.ResourceDefaultNamespacePrefix)
}

// overcommitAllowed: requests may be below limits for native resources but
// hugepages; extended resources (nvidia.com/gpu) must request their limit.
func overcommitAllowed(name string) bool {
	return isNativeResource(name) && !strings.HasPrefix(name, corev1.ResourceHugePagesPrefix)
}

func validateResourceName(name string, p *field.Path) field.ErrorList {
	errs := kubeQualifiedName(name, p)
	if len(errs) > 0 {
		return errs
	}
	if !strings.Contains(name, "/") {
		if !isStandardContainerResource(name) {
			errs = append(errs, field.Invalid(p, name, "must be a standard resource for containers"))
		}
	} else if !isNativeResource(name) && len(validation.IsQualifiedName("requests."+name)) > 0 {
		errs = append(errs, field.Invalid(p, name, "doesn't follow extended resource name standard"))
	}
	return errs
}

func validateResourceQuantity(name string, q resource.Quantity, p *field.Path) field.ErrorList {
	errs := kubeQuantityNonNegative(q, p)
	if !isNativeResource(name) && q.MilliValue()%1000 != 0 {
		errs = append(errs, field.Invalid(p, q.String(), "must be an integer"))
	}
	return errs
}

func validateResources(r *corev1.ResourceRequirements, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	limPath, reqPath := p.Child("limits"), p.Child("requests")
	for _, name := range sortedKeys(r.Limits) {
		kp := limPath.Key(string(name))
		errs = append(errs, validateResourceName(string(name), kp)...)
		errs = append(errs, validateResourceQuantity(string(name), r.Limits[name], kp)...)
	}
	for _, name := range sortedKeys(r.Requests) {
		q := r.Requests[name]
		kp := reqPath.Key(string(name))
		errs = append(errs, validateResourceName(string(name), kp)...)
		errs = append(errs, validateResourceQuantity(string(name), q, kp)...)
		limit, ok := r.Limits[name]
		switch {
		case ok && !overcommitAllowed(string(name)) && q.Cmp(limit) != 0:
			errs = append(errs, field.Invalid(kp, q.String(), fmt.Sprintf("must be equal to %s limit of %s", name, limit.String())))
		case ok && q.Cmp(limit) > 0:
			errs = append(errs, field.Invalid(kp, q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
		case !ok && !overcommitAllowed(string(name)):
			errs = append(errs, field.Required(limPath.Key(string(name)), "Limit must be set for non overcommitable resources"))
		}
	}
	return errs
}

// Security contexts: Weft does not enforce them yet (support.go warns), but
// what it stores must still be well-formed.

func validatePodSecurityContext(sc *corev1.PodSecurityContext, p *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	var errs field.ErrorList
	errs = append(errs, validateID(sc.RunAsUser, p.Child("runAsUser"), validation.IsValidUserID)...)
	errs = append(errs, validateID(sc.RunAsGroup, p.Child("runAsGroup"), validation.IsValidGroupID)...)
	errs = append(errs, validateID(sc.FSGroup, p.Child("fsGroup"), validation.IsValidGroupID)...)
	for i, g := range sc.SupplementalGroups {
		errs = append(errs, validateID(&g, p.Child("supplementalGroups").Index(i), validation.IsValidGroupID)...)
	}
	if sc.FSGroupChangePolicy != nil {
		errs = append(errs, kubeEnum(*sc.FSGroupChangePolicy, p.Child("fsGroupChangePolicy"), corev1.FSGroupChangeOnRootMismatch, corev1.FSGroupChangeAlways)...)
	}
	for i, s := range sc.Sysctls {
		if s.Name == "" {
			errs = append(errs, field.Required(p.Child("sysctls").Index(i).Child("name"), ""))
		}
	}
	return errs
}

func validateSecurityContext(sc *corev1.SecurityContext, p *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	var errs field.ErrorList
	errs = append(errs, validateID(sc.RunAsUser, p.Child("runAsUser"), validation.IsValidUserID)...)
	errs = append(errs, validateID(sc.RunAsGroup, p.Child("runAsGroup"), validation.IsValidGroupID)...)
	if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
		if sc.Privileged != nil && *sc.Privileged {
			errs = append(errs, field.Invalid(p, sc, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
		}
		if sc.Capabilities != nil {
			for _, c := range sc.Capabilities.Add {
				if c == "SYS_ADMIN" || c == "CAP_SYS_ADMIN" {
					errs = append(errs, field.Invalid(p, sc, "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
				}
			}
		}
	}
	if sc.ProcMount != nil {
		errs = append(errs, kubeEnum(*sc.ProcMount, p.Child("procMount"), corev1.DefaultProcMount, corev1.UnmaskedProcMount)...)
	}
	return errs
}

func validateID(id *int64, p *field.Path, check func(int64) []string) field.ErrorList {
	if id == nil {
		return nil
	}
	var errs field.ErrorList
	for _, msg := range check(*id) {
		errs = append(errs, field.Invalid(p, *id, msg))
	}
	return errs
}

// Scheduling.

func validateTolerations(ts []corev1.Toleration, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, t := range ts {
		ip := p.Index(i)
		if t.Key != "" {
			errs = append(errs, metav1validation.ValidateLabelName(t.Key, ip.Child("key"))...)
		}
		if t.Key == "" && t.Operator != corev1.TolerationOpExists {
			errs = append(errs, field.Invalid(ip.Child("operator"), t.Operator, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}
		if t.TolerationSeconds != nil && t.Effect != corev1.TaintEffectNoExecute {
			errs = append(errs, field.Invalid(ip.Child("effect"), t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
		}
		switch t.Operator {
		case corev1.TolerationOpEqual, "":
			errs = append(errs, kubeLabelValue(t.Value, ip.Child("value"))...)
		case corev1.TolerationOpExists:
			if t.Value != "" {
				errs = append(errs, field.Invalid(ip.Child("operator"), t.Operator, "value must be empty when `operator` is 'Exists'"))
			}
		case corev1.TolerationOpGt, corev1.TolerationOpLt:
			if _, err := strconv.ParseInt(t.Value, 10, 64); err != nil {
				errs = append(errs, field.Invalid(ip.Child("value"), t.Value, "must be an integer when `operator` is 'Gt' or 'Lt'"))
			}
		default:
			errs = append(errs, field.NotSupported(ip.Child("operator"), t.Operator,
				[]corev1.TolerationOperator{corev1.TolerationOpEqual, corev1.TolerationOpExists, corev1.TolerationOpGt, corev1.TolerationOpLt}))
		}
		if t.Effect != "" {
			errs = append(errs, kubeEnum(t.Effect, ip.Child("effect"), corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute)...)
		}
	}
	return errs
}

func validateAffinity(a *corev1.Affinity, p *field.Path) field.ErrorList {
	if a == nil {
		return nil
	}
	var errs field.ErrorList
	if na := a.NodeAffinity; na != nil {
		np := p.Child("nodeAffinity")
		if sel := na.RequiredDuringSchedulingIgnoredDuringExecution; sel != nil {
			rp := np.Child("requiredDuringSchedulingIgnoredDuringExecution")
			if len(sel.NodeSelectorTerms) == 0 {
				errs = append(errs, field.Required(rp.Child("nodeSelectorTerms"), "must have at least one node selector term"))
			}
			for i := range sel.NodeSelectorTerms {
				errs = append(errs, validateNodeSelectorTerm(&sel.NodeSelectorTerms[i], rp.Child("nodeSelectorTerms").Index(i))...)
			}
		}
		for i, t := range na.PreferredDuringSchedulingIgnoredDuringExecution {
			ip := np.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
			errs = append(errs, validateWeight(t.Weight, ip.Child("weight"))...)
			errs = append(errs, validateNodeSelectorTerm(&t.Preference, ip.Child("preference"))...)
		}
	}
	for _, pa := range []struct {
		name      string
		required  []corev1.PodAffinityTerm
		preferred []corev1.WeightedPodAffinityTerm
	}{
		{"podAffinity", podAffinityRequired(a.PodAffinity), podAffinityPreferred(a.PodAffinity)},
		{"podAntiAffinity", podAntiAffinityRequired(a.PodAntiAffinity), podAntiAffinityPreferred(a.PodAntiAffinity)},
	} {
		pp := p.Child(pa.name)
		for i := range pa.required {
			errs = append(errs, validatePodAffinityTerm(&pa.required[i], pp.Child("requiredDuringSchedulingIgnoredDuringExecution").Index(i))...)
		}
		for i := range pa.preferred {
			ip := pp.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
			errs = append(errs, validateWeight(pa.preferred[i].Weight, ip.Child("weight"))...)
			errs = append(errs, validatePodAffinityTerm(&pa.preferred[i].PodAffinityTerm, ip.Child("podAffinityTerm"))...)
		}
	}
	return errs
}

func podAffinityRequired(a *corev1.PodAffinity) []corev1.PodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.RequiredDuringSchedulingIgnoredDuringExecution
}

func podAffinityPreferred(a *corev1.PodAffinity) []corev1.WeightedPodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.PreferredDuringSchedulingIgnoredDuringExecution
}

func podAntiAffinityRequired(a *corev1.PodAntiAffinity) []corev1.PodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.RequiredDuringSchedulingIgnoredDuringExecution
}

func podAntiAffinityPreferred(a *corev1.PodAntiAffinity) []corev1.WeightedPodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.PreferredDuringSchedulingIgnoredDuringExecution
}

func validateWeight(w int32, p *field.Path) field.ErrorList {
	if w < 1 || w > 100 {
		return field.ErrorList{field.Invalid(p, w, "must be in the range 1-100")}
	}
	return nil
}

func validatePodAffinityTerm(t *corev1.PodAffinityTerm, p *field.Path) field.ErrorList {
	errs := kubeLabelSelector(t.LabelSelector, p.Child("labelSelector"))
	errs = append(errs, kubeLabelSelector(t.NamespaceSelector, p.Child("namespaceSelector"))...)
	for i, ns := range t.Namespaces {
		for _, msg := range apivalidation.ValidateNamespaceName(ns, false) {
			errs = append(errs, field.Invalid(p.Child("namespaces").Index(i), ns, msg))
		}
	}
	if t.TopologyKey == "" {
		errs = append(errs, field.Required(p.Child("topologyKey"), "can not be empty"))
	} else {
		errs = append(errs, metav1validation.ValidateLabelName(t.TopologyKey, p.Child("topologyKey"))...)
	}
	return errs
}

func validateNodeSelectorTerm(t *corev1.NodeSelectorTerm, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, r := range t.MatchExpressions {
		ip := p.Child("matchExpressions").Index(i)
		errs = append(errs, metav1validation.ValidateLabelName(r.Key, ip.Child("key"))...)
		errs = append(errs, validateNodeSelectorOperator(r.Operator, r.Values, ip)...)
		if r.Operator == corev1.NodeSelectorOpIn || r.Operator == corev1.NodeSelectorOpNotIn {
			for j, v := range r.Values {
				errs = append(errs, kubeLabelValue(v, ip.Child("values").Index(j))...)
			}
		}
	}
	for i, r := range t.MatchFields {
		ip := p.Child("matchFields").Index(i)
		if r.Key != "metadata.name" {
			errs = append(errs, field.NotSupported(ip.Child("key"), r.Key, []string{"metadata.name"}))
		}
		if r.Operator != corev1.NodeSelectorOpIn && r.Operator != corev1.NodeSelectorOpNotIn {
			errs = append(errs, field.NotSupported(ip.Child("operator"), r.Operator, []corev1.NodeSelectorOperator{corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn}))
		} else if len(r.Values) != 1 {
			errs = append(errs, field.Required(ip.Child("values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"))
		}
	}
	return errs
}

func validateNodeSelectorOperator(op corev1.NodeSelectorOperator, values []string, p *field.Path) field.ErrorList {
	switch op {
	case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn:
		if len(values) == 0 {
			return field.ErrorList{field.Required(p.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'")}
		}
	case corev1.NodeSelectorOpExists, corev1.NodeSelectorOpDoesNotExist:
		if len(values) > 0 {
			return field.ErrorList{field.Forbidden(p.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")}
		}
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if len(values) != 1 {
			return field.ErrorList{field.Required(p.Child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'")}
		}
		if _, err := strconv.ParseInt(values[0], 10, 64); err != nil {
			return field.ErrorList{field.Invalid(p.Child("values").Index(0), values[0], "must be an integer")}
		}
	default:
		return field.ErrorList{field.NotSupported(p.Child("operator"), op, []corev1.NodeSelectorOperator{
			corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn, corev1.NodeSelectorOpExists,
			corev1.NodeSelectorOpDoesNotExist, corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt})}
	}
	return nil
}

func validateDNSConfig(c *corev1.PodDNSConfig, policy corev1.DNSPolicy, p *field.Path) field.ErrorList {
	if policy == corev1.DNSNone {
		if c == nil {
			return field.ErrorList{field.Required(p, "must provide `dnsConfig` when `dnsPolicy` is None")}
		}
		if len(c.Nameservers) == 0 {
			return field.ErrorList{field.Required(p.Child("nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None")}
		}
	}
	if c == nil {
		return nil
	}
	var errs field.ErrorList
	if len(c.Nameservers) > 3 {
		errs = append(errs, field.Invalid(p.Child("nameservers"), c.Nameservers, "must not have more than 3 nameservers"))
	}
	for i, ns := range c.Nameservers {
		errs = append(errs, kubeIP(ns, p.Child("nameservers").Index(i))...)
	}
	if len(c.Searches) > 32 {
		errs = append(errs, field.Invalid(p.Child("searches"), c.Searches, "must not have more than 32 search paths"))
	}
	if len(strings.Join(c.Searches, " ")) > 2048 {
		errs = append(errs, field.Invalid(p.Child("searches"), c.Searches, "must not have more than 2048 characters (including spaces) in the search list"))
	}
	for i, s := range c.Searches {
		if s == "." {
			continue
		}
		errs = append(errs, kubeDNSSubdomain(strings.TrimSuffix(s, "."), p.Child("searches").Index(i))...)
	}
	for i, o := range c.Options {
		if o.Name == "" {
			errs = append(errs, field.Required(p.Child("options").Index(i), "must not be empty"))
		}
	}
	return errs
}

// Upstream's warnings for pods (k8s.io/kubernetes pkg/api/pod/warnings.go),
// the ones that apply to what Weft serves.

var deprecatedNodeLabels = map[string]struct{ since, use string }{
	"beta.kubernetes.io/arch":                  {"v1.14", "kubernetes.io/arch"},
	"beta.kubernetes.io/os":                    {"v1.14", "kubernetes.io/os"},
	"failure-domain.beta.kubernetes.io/region": {"v1.17", "topology.kubernetes.io/region"},
	"failure-domain.beta.kubernetes.io/zone":   {"v1.17", "topology.kubernetes.io/zone"},
	"beta.kubernetes.io/instance-type":         {"v1.17", "node.kubernetes.io/instance-type"},
}

func podSpecWarnings(spec *corev1.PodSpec, p *field.Path) []string {
	var warns []string
	for _, k := range sortedKeys(spec.NodeSelector) {
		if d, ok := deprecatedNodeLabels[k]; ok {
			warns = append(warns, fmt.Sprintf("%s: deprecated since %s; use %q instead", p.Child("nodeSelector").Key(k), d.since, d.use))
		}
	}
	type portKey struct {
		port     int32
		protocol corev1.Protocol
		hostIP   string
		hostPort int32
	}
	ports := map[portKey]string{}
	portNames := map[string]string{}
	for i, c := range spec.Containers {
		cp := p.Child("containers").Index(i)
		for j, port := range c.Ports {
			pp := cp.Child("ports").Index(j).String()
			k := portKey{port.ContainerPort, port.Protocol, port.HostIP, port.HostPort}
			if first, ok := ports[k]; ok {
				warns = append(warns, fmt.Sprintf("%s: duplicate port definition with %s", pp, first))
			} else {
				ports[k] = pp
			}
			if port.Name == "" {
				continue
			}
			if first, ok := portNames[port.Name]; ok {
				warns = append(warns, fmt.Sprintf("%s: duplicate port name %q with %s, services and probes that select ports by name will use %s", pp, port.Name, first, first))
			} else {
				portNames[port.Name] = pp
			}
		}
	}
	for _, cl := range []struct {
		name string
		cs   []corev1.Container
	}{{"initContainers", spec.InitContainers}, {"containers", spec.Containers}} {
		for i, c := range cl.cs {
			cp := p.Child(cl.name).Index(i)
			seen := map[string]bool{}
			for j, ev := range c.Env {
				if seen[ev.Name] {
					warns = append(warns, fmt.Sprintf("%s: hides previous definition of %q, which may be dropped when using apply", cp.Child("env").Index(j), ev.Name))
				}
				seen[ev.Name] = true
			}
			for _, l := range []struct {
				name string
				list corev1.ResourceList
			}{{"limits", c.Resources.Limits}, {"requests", c.Resources.Requests}} {
				for _, name := range sortedKeys(l.list) {
					q := l.list[name]
					if (name == corev1.ResourceMemory || name == corev1.ResourceEphemeralStorage || strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)) && q.MilliValue()%1000 != 0 {
						warns = append(warns, fmt.Sprintf("%s: fractional byte value %q is invalid, must be an integer", cp.Child("resources", l.name).Key(string(name)), q.String()))
					}
				}
			}
		}
	}
	return warns
}
