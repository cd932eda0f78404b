package main

import (
	"fmt"
	"os"
	"text/tabwriter"
)

type result struct {
	name     string
	clients  int
	perSec   float64
	p50, p99 float64
	avgMs    float64
	errors   int64
	dropped  int64
	baseline bool
	batcher  string
	timeline string // fixed-rate runs: per-interval sends, drops and worst latency
}

func report(rs []result) {
	var spreadBase, hotBase float64
	for _, r := range rs {
		switch r.name {
		case "pgbench baseline spread":
			spreadBase = r.perSec
		case "pgbench baseline hot account":
			hotBase = r.perSec
		}
	}
	fmt.Println()
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "scenario\tclients\tdebits/s\tp50 ms\tp99 ms\terrors\tdropped\tvs baseline\tbatcher\t")
	for _, r := range rs {
		ratio := ""
		base := spreadBase
		if r.name == "api hot account" || r.name == "pgbench baseline hot account" {
			base = hotBase
		}
		if base > 0 && !r.baseline {
			ratio = fmt.Sprintf("%.1fx", r.perSec/base)
		}
		p50, p99 := fmt.Sprintf("%.2f", r.p50), fmt.Sprintf("%.2f", r.p99)
		if r.baseline {
			p50, p99 = fmt.Sprintf("(avg %.2f)", r.avgMs), "-"
		}
		fmt.Fprintf(w, "%s\t%d\t%.0f\t%s\t%s\t%d\t%d\t%s\t%s\t\n", r.name, r.clients, r.perSec, p50, p99, r.errors, r.dropped, ratio, r.batcher)
	}
	w.Flush()
}
