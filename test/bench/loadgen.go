package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"fortio.org/fortio/fhttp"
	"fortio.org/fortio/periodic"
	flog "fortio.org/log"
	"github.com/miekg/dns"
)

// fortioVersion is the fortio the latency figures are measured with, as a
// library (fortio.org/fortio/fhttp, its fast HTTP/1.1 client).
const fortioVersion = "v1.68.2"

// latency is what a fixed-rate run measured, in microseconds.
type latency struct {
	p50, p90, p99 float64
	qps           float64 // achieved
	count         int64
}

func init() {
	// fortio logs every run at info level; the harness prints its own progress.
	flog.SetLogLevelQuiet(flog.Error)
	flog.SetOutput(io.Discard)
}

// runFortio sends qps requests/s over conns connections for d to url with
// Host: host, as `fortio load -qps QPS -c CONNS -t D -r 0.00001 -H "Host: HOST" URL`
// does, and returns the latency percentiles. Any non-200 answer fails the run.
func runFortio(url, host string, qps float64, conns int, d time.Duration) (latency, error) {
	o := fhttp.HTTPRunnerOptions{}
	o.RunnerOptions = periodic.RunnerOptions{
		QPS:         qps,
		NumThreads:  conns,
		Duration:    d,
		Percentiles: []float64{50, 90, 99},
		// 10 µs units for fortio's histogram (its default, 1 ms, is
		// coarser than what is measured here): its buckets are then 50 µs
		// wide from 250 µs to 500 µs, 100 µs to 1 ms, 200 µs to 2 ms and
		// 500 µs to 5 ms; percentiles are interpolated within a bucket.
		Resolution: 1e-5,
		Out:        io.Discard,
	}
	o.URL = url
	if err := o.AddAndValidateExtraHeader("Host: " + host); err != nil {
		return latency{}, err
	}
	res, err := fhttp.RunHTTPTest(&o)
	if err != nil {
		return latency{}, fmt.Errorf("fortio %s: %w", url, err)
	}
	h := res.DurationHistogram
	for code, n := range res.RetCodes {
		if code != 200 {
			return latency{}, fmt.Errorf("fortio %s: %d answers with status %d of %d", url, n, code, h.Count)
		}
	}
	l := latency{qps: res.ActualQPS, count: h.Count}
	for _, p := range h.Percentiles {
		switch p.Percentile {
		case 50:
			l.p50 = p.Value * 1e6
		case 90:
			l.p90 = p.Value * 1e6
		case 99:
			l.p99 = p.Value * 1e6
		}
	}
	return l, nil
}

// dnsLoad is what one DNS load run measured.
type dnsLoad struct {
	qps      float64
	p50, p99 float64 // µs
	failures int64   // timeouts and answers that were not NOERROR with an answer
}

// runDNSLoad sends queries for names (in turn) from clients goroutines,
// each with its own UDP socket, one query at a time, for d — as dnsperf
// does with -c clients and no -Q limit: the rate is whatever the server
// (and the machine) sustains. It returns the queries/s answered and the
// latency percentiles over every query.
func runDNSLoad(ctx context.Context, addr string, names []string, clients int, d time.Duration) (dnsLoad, error) {
	var (
		mu       sync.Mutex
		all      []float64
		answered int64
		failed   int64
	)
	start := time.Now()
	stopAt := start.Add(d)
	err := parallel(clients, func(i int) error {
		co, err := dns.Dial("udp", addr)
		if err != nil {
			return err
		}
		defer co.Close()
		local := make([]float64, 0, 1<<14)
		var ok, bad int64
		msgs := make([]*dns.Msg, len(names))
		for k, n := range names {
			msgs[k] = new(dns.Msg).SetQuestion(n, dns.TypeA)
		}
		for k := i; time.Now().Before(stopAt) && ctx.Err() == nil; k++ {
			q := msgs[k%len(msgs)]
			q.Id = dns.Id()
			t0 := time.Now()
			_ = co.SetDeadline(t0.Add(2 * time.Second))
			if err := co.WriteMsg(q); err != nil {
				return err
			}
			r, err := co.ReadMsg()
			if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
				bad++
				continue
			}
			local = append(local, micros(time.Since(t0)))
			ok++
		}
		mu.Lock()
		all = append(all, local...)
		answered += ok
		failed += bad
		mu.Unlock()
		return nil
	})
	took := time.Since(start)
	if err != nil {
		return dnsLoad{}, err
	}
	if answered == 0 {
		return dnsLoad{}, fmt.Errorf("no query to %s was answered (%d failed)", addr, failed)
	}
	return dnsLoad{qps: float64(answered) / took.Seconds(), p50: percentile(all, 50), p99: percentile(all, 99), failures: failed}, nil
}
