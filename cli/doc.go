// Package cli is weftctl: kubectl's verbs (apply, get, describe, delete,
// api-resources, version) against weftd's API, with kubectl's output
// formats (tables from package printers, -o yaml|json|name|wide) and
// errors that name the file, document, object and field. cmd/weftctl calls
// Main; tests call it too, with their own streams.
package cli
