// Package volumes makes a pod's volumes on the host and says where each
// container's volumeMounts come from.
//
// Prepare creates every volume of a pod under the pod's directory
// (emptyDir; configMap, secret, downwardAPI and projected as files written
// from the API objects; hostPath checked or created per its type;
// persistentVolumeClaim through the agent's claim resolver, the local-path
// provisioner). Mounts turns a container's volumeMounts, subPath and
// subPathExpr included, into runtime mounts: the runtime binds them at
// their mountPaths in the container's private mount namespace. Without root
// there are no mount namespaces; the agent then reports that mount paths
// are not made real and passes each volume's directory in the environment.
package volumes
