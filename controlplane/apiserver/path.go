package apiserver

import (
	"fmt"
	"strings"

	"github.com/weft-mesh/weft/api"
)

// requestInfo is what a Kubernetes-shaped API path names.
type requestInfo struct {
	Kind        *api.Kind
	Version     string // the version the client speaks
	Namespace   string // "" for cluster-scoped kinds or all namespaces
	Name        string // "" for collections
	Subresource string // "status", "scale" or ""
}

// parsePath understands
//
//	/api/v1/{resource}[/{name}[/{sub}]]
//	/api/v1/namespaces/{ns}/{resource}[/{name}[/{sub}]]
//	/apis/{group}/{version}/... the same
//
// where /api/v1/namespaces/{name} is the namespace itself.
func parsePath(path string) (requestInfo, error) {
	var info requestInfo
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var group string
	switch {
	case len(parts) >= 3 && parts[0] == "api" && parts[1] == "v1":
		info.Version, parts = "v1", parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		group, info.Version, parts = parts[1], parts[2], parts[3:]
	default:
		return info, fmt.Errorf("the server could not find the requested resource %q", path)
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		info.Namespace, parts = parts[1], parts[2:]
	}
	for _, p := range parts {
		if p == "" {
			return info, fmt.Errorf("empty segment in path %q", path)
		}
	}
	resource := parts[0]
	info.Kind = api.LookupResource(group, info.Version, resource)
	if info.Kind == nil {
		return info, fmt.Errorf("the server could not find the requested resource %q (no %s in %s)", path, resource, joinGV(group, info.Version))
	}
	switch len(parts) {
	case 1:
	case 2:
		info.Name = parts[1]
	case 3:
		info.Name, info.Subresource = parts[1], parts[2]
		if !subresourceAllowed(info.Kind, info.Subresource) {
			return info, fmt.Errorf("the server could not find the requested resource %q (no subresource %q)", path, info.Subresource)
		}
	default:
		// pods/{name}/proxy-admin/{path...}: the rest is the proxy's path.
		if parts[2] == "proxy-admin" && info.Kind.Kind == "Pod" {
			info.Name, info.Subresource = parts[1], parts[2]
			break
		}
		return info, fmt.Errorf("the server could not find the requested resource %q", path)
	}
	if !info.Kind.Namespaced && info.Namespace != "" {
		return info, fmt.Errorf("%s are not namespaced: use %s", info.Kind.Resource, strings.Replace(path, "/namespaces/"+info.Namespace, "", 1))
	}
	return info, nil
}

func joinGV(group, version string) string {
	if group == "" {
		return version
	}
	return group + "/" + version
}

// storageKey is where an object lives in the store.
func storageKey(k *api.Kind, namespace, name string) string {
	return storagePrefix(k, namespace) + name
}

// storagePrefix is the prefix of a kind's objects in one namespace (all
// namespaces when namespace is "").
func storagePrefix(k *api.Kind, namespace string) string {
	group := k.Group
	if group == "" {
		group = "core"
	}
	p := "/registry/" + group + "/" + k.Resource + "/"
	if k.Namespaced && namespace != "" {
		p += namespace + "/"
	}
	return p
}

// subresourceAllowed says which subresources each kind has.
func subresourceAllowed(k *api.Kind, sub string) bool {
	switch sub {
	case "status":
		return true
	case "binding", "log", "exec", "proxy-admin":
		return k.Kind == "Pod"
	}
	return false
}
