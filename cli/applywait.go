package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane/xds"
)

// apply --wait: after the writes, wait until every proxy whose
// configuration the change affects has ACKed it, from weftd's proxy status
// (GET /weft/v1/proxy-status, what `weftctl proxy-status` shows).
//
// The status carries, per connected proxy and xDS type, the version of
// the proxy's current snapshot and the version it last ACKed; versions
// only go up and change only when that type's resources change. So:
//
//   - before the first write, apply records every proxy's versions;
//   - a proxy is affected when one of its versions differs from the
//     recorded one (or it connected since);
//   - the wait ends when every affected proxy is SYNCED on every type it
//     was sent, and the versions have stayed the same for applySettle
//     since the writes — longer than weftd's push debounce (at most 1s),
//     so a push still pending when the writes end is seen before success;
//   - a NACK of an affected proxy fails at once, with the proxy's error;
//     --timeout fails naming the proxies and types still STALE.
//
// A proxy-status without our versions is a limit of this definition: the
// control plane does not say which store revision a snapshot reflects, so
// "affected" is "whose config changed after the apply began", which can
// include a change someone else made meanwhile (it is then waited for too).
const applySettle = 2 * time.Second

// applyPoll is how often the proxy status is read while waiting.
var applyPoll = 200 * time.Millisecond

// proxyStatusDoc is the body of GET /weft/v1/proxy-status.
type proxyStatusDoc struct {
	Proxies  []xds.ProxyStatus `json:"proxies"`
	Warnings []xds.Warning     `json:"warnings"`
}

// errNoXDS means weftd runs without xDS: there is nothing to wait for.
var errNoXDS = errors.New("weftd serves no proxy status (xDS is off)")

func readProxyStatus(ctx context.Context, c *client.Client) ([]xds.ProxyStatus, error) {
	b, err := c.Raw(ctx, proxyStatusPath)
	if apierrors.IsNotFound(err) {
		return nil, errNoXDS
	}
	if err != nil {
		return nil, fmt.Errorf("proxy status: %w", err)
	}
	var doc proxyStatusDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("proxy status: %w", err)
	}
	return doc.Proxies, nil
}

// proxyVersions is each proxy's snapshot versions, by proxy id.
type proxyVersions map[string][4]string

func versionsOf(ps []xds.ProxyStatus) proxyVersions {
	out := proxyVersions{}
	for _, p := range ps {
		var v [4]string
		for i, t := range p.Types {
			v[i] = t.Version
		}
		out[p.ID] = v
	}
	return out
}

func (v proxyVersions) key() string {
	ids := make([]string, 0, len(v))
	for id := range v {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "%s=%v;", id, v[id])
	}
	return b.String()
}

// syncProgress is where the affected proxies stand.
type syncProgress struct {
	Affected int
	Synced   int
	// Pending names each affected proxy not synced yet, with its types
	// that are not ("sleep-1.default (LDS STALE, RDS STALE)").
	Pending []string
	// NACKs are the affected proxies' rejections.
	NACKs []string
}

// proxySynced reports whether one type of a proxy has ACKed what it was
// sent: SYNCED, or nothing to send (no version, never sent).
func typeSynced(t xds.TypeStatus) bool {
	return t.State == xds.StateSynced || (t.State == xds.StateNotSent && t.Version == "")
}

// progressOf compares the status now with the versions before the apply.
func progressOf(before proxyVersions, now []xds.ProxyStatus) syncProgress {
	var p syncProgress
	for _, ps := range now {
		var v [4]string
		for i, t := range ps.Types {
			v[i] = t.Version
		}
		if old, ok := before[ps.ID]; ok && old == v {
			continue
		}
		p.Affected++
		name := proxyDisplayName(ps)
		var bad []string
		for _, t := range ps.Types {
			if t.State == xds.StateNACK {
				p.NACKs = append(p.NACKs, fmt.Sprintf("%s rejected %s version %s: %s", name, t.Type, t.NACKVersion, t.Error))
			}
			if !typeSynced(t) {
				bad = append(bad, t.Type+" "+t.State)
			}
		}
		if len(bad) == 0 {
			p.Synced++
		} else {
			p.Pending = append(p.Pending, fmt.Sprintf("%s (%s)", name, strings.Join(bad, ", ")))
		}
	}
	return p
}

func proxyDisplayName(p xds.ProxyStatus) string {
	if p.Name == "" {
		return p.ID
	}
	return p.Name + "." + p.Namespace
}

// waitForProxies waits, with progress, until the proxies affected since
// before have ACKed (see the top of this file).
func (o *options) waitForProxies(c *client.Client, before proxyVersions, timeout time.Duration) error {
	out := o.streams.Out
	start := time.Now()
	deadline := start.Add(timeout)
	lastChange, lastKey := start, before.key()
	lastLine := ""
	for {
		ctx, cancel := o.context()
		now, err := readProxyStatus(ctx, c)
		cancel()
		if err != nil {
			return err
		}
		t := time.Now()
		if k := versionsOf(now).key(); k != lastKey {
			lastKey, lastChange = k, t
		}
		p := progressOf(before, now)
		if len(p.NACKs) > 0 {
			for _, n := range p.NACKs {
				fmt.Fprintln(o.streams.Err, "error:", n)
			}
			return fmt.Errorf("%d of %d proxies rejected the new configuration", len(p.NACKs), p.Affected)
		}
		if p.Affected > 0 {
			if line := fmt.Sprintf("waiting for %d %s to sync… %d/%d", p.Affected, plural(p.Affected, "proxy", "proxies"), p.Synced, p.Affected); line != lastLine {
				fmt.Fprintln(out, line)
				lastLine = line
			}
		}
		settled := t.Sub(lastChange) >= applySettle && t.Sub(start) >= applySettle
		if settled && len(p.Pending) == 0 {
			if p.Affected == 0 {
				fmt.Fprintln(out, "no proxy's configuration changed")
			} else {
				fmt.Fprintf(out, "%d %s synced in %s\n", p.Affected, plural(p.Affected, "proxy", "proxies"), t.Sub(start).Round(100*time.Millisecond))
			}
			return nil
		}
		if t.After(deadline) {
			return fmt.Errorf("timed out after %s: %d of %d proxies not synced: %s", timeout, len(p.Pending), p.Affected, strings.Join(p.Pending, "; "))
		}
		time.Sleep(applyPoll)
	}
}
