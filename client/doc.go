// Package client is the Go client of weftd's Kubernetes-shaped API, used by
// weftctl, the controllers, the scheduler and the node agent: typed get,
// list, create, update, apply, delete and watch of api.Objects, errors as
// *k8s.io/apimachinery/pkg/api/errors.StatusError (so apierrors.IsNotFound
// and friends work), and the client configuration file (weftctl.yaml).
//
//	c, _ := client.New("http://127.0.0.1:7780", token)
//	pods, rv, err := c.List(ctx, api.LookupName("pods"), "default", client.ListOptions{LabelSelector: "app=web"})
//	events, err := c.Watch(ctx, api.LookupName("pods"), "default", client.ListOptions{ResourceVersion: rv})
package client
