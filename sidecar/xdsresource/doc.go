// Package xdsresource decodes and validates the Envoy v3 resources weft-proxy
// consumes (LDS, RDS, CDS, EDS) into small immutable internal types.
//
// It follows grpc-go's xDS client: per resource type a type_*.go file with the
// internal type (only the fields the proxy uses) and an unmarshal_*.go file that
// decodes and validates the proto. Every populated proto field is checked
// against an allowlist (fields.go): a field the proxy cannot honour makes the
// whole resource invalid, with an error naming the field path, so the xDS
// client can NACK it instead of silently ignoring it.
//
// The package is pure: no I/O, no clocks. The types it returns are never
// mutated after Unmarshal returns.
package xdsresource
