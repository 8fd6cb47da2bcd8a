// Package controlplane wires weftd: it opens the store in the data
// directory, makes the admin and join tokens and the client config on first
// start, and serves the API (package apiserver) until its context ends.
// Later parts (controllers, scheduler, xDS, DNS, CA, the local agent) are
// started from Run too. cmd/weftd only parses flags and calls Run.
package controlplane
