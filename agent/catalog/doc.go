// Package catalog is the image catalogue: the process runtime cannot pull
// images, so a container's image reference is resolved to a local command.
//
// The built-in catalogue (defaults.yaml, embedded) makes the seed manifests
// run unchanged; an extra file (weft-agent --images FILE) adds entries that
// take precedence. Each entry matches image references by a glob on the
// repository (the reference without its tag or digest) and gives the image's
// entrypoint and default command, as a real image's ENTRYPOINT and CMD:
//
//	images:
//	- pattern: "*dustise/flaskapp*"
//	  entrypoint: [weft-demo, flaskapp]
//	- pattern: "*busybox*"
//	  cmd: [sleep, infinity]
//
// Resolve applies Kubernetes' rules for command and args on top: command
// replaces the entrypoint (and drops cmd), args replace cmd. A container
// whose image is unknown still runs when it gives a command. The first word
// of a catalogue command without a slash is looked up in the configured
// directories (next to the agent binary by default), then in $PATH.
package catalog
