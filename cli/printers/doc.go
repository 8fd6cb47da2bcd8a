// Package printers renders Weft objects for people, the way kubectl does.
//
// Table gives the columns and cells of `weftctl get` for a list of objects of
// one kind: the columns kubectl's built-in printers use for Kubernetes kinds
// (k8s.io/kubernetes pkg/printers/internalversion), and for Istio kinds the
// additionalPrinterColumns of Istio's CRDs, evaluated as the API server
// evaluates them. PrintTable aligns the result as kubectl does. Table is a
// pure function of its arguments: the clock comes in as TableOptions.Now.
//
// Describe renders one object as `weftctl describe` shows it: kubectl's
// describers for Pods, Services, workloads, Nodes, HorizontalPodAutoscalers
// and a few more; readable summaries for VirtualServices and
// DestinationRules; and for any other kind a generic form (metadata, then
// spec and status as YAML). The caller fetches what a describer needs
// besides the object (its Events, and related objects such as a Service's
// Endpoints or a ReplicaSet's Pods) and passes it in, so Describe does no
// I/O either.
//
// A typical caller:
//
//	headers, rows := printers.Table(kind, objs, printers.TableOptions{Wide: wide, Now: time.Now()})
//	if err := printers.PrintTable(os.Stdout, headers, rows); err != nil { ... }
//
//	fmt.Print(printers.Describe(pod, related, events, time.Now()))
package printers
