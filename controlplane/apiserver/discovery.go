package apiserver

import (
	"net/http"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/api"
)

var allVerbs = metav1.Verbs{"create", "delete", "get", "list", "patch", "update", "watch"}

func (s *Server) discoveryVersions(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"}})
}

func (s *Server) discoveryGroups(w http.ResponseWriter, _ *http.Request) {
	groups := map[string]*metav1.APIGroup{}
	var names []string
	for _, k := range api.Kinds() {
		if k.Group == "" {
			continue
		}
		g, ok := groups[k.Group]
		if !ok {
			g = &metav1.APIGroup{Name: k.Group, PreferredVersion: metav1.GroupVersionForDiscovery{GroupVersion: k.APIVersion(), Version: k.Version}}
			groups[k.Group] = g
			names = append(names, k.Group)
		}
		for _, v := range k.Versions {
			gv := metav1.GroupVersionForDiscovery{GroupVersion: k.Group + "/" + v, Version: v}
			if !containsGV(g.Versions, gv) {
				g.Versions = append(g.Versions, gv)
			}
		}
	}
	sort.Strings(names)
	out := metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
	for _, n := range names {
		out.Groups = append(out.Groups, *groups[n])
	}
	writeJSON(w, http.StatusOK, out)
}

func containsGV(list []metav1.GroupVersionForDiscovery, gv metav1.GroupVersionForDiscovery) bool {
	for _, x := range list {
		if x == gv {
			return true
		}
	}
	return false
}

func (s *Server) discoveryResources(w http.ResponseWriter, r *http.Request) {
	group, version := r.PathValue("group"), r.PathValue("version")
	if version == "" {
		version = "v1"
	}
	out := metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: joinGV(group, version)}
	for _, k := range api.Kinds() {
		if k.Group != group || !k.Serves(version) {
			continue
		}
		out.APIResources = append(out.APIResources, metav1.APIResource{
			Name: k.Resource, Namespaced: k.Namespaced, Kind: k.Kind, Verbs: allVerbs, ShortNames: k.ShortNames,
			SingularName: lower(k.Kind),
		})
	}
	if len(out.APIResources) == 0 {
		http.NotFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
