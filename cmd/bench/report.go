package main

import (
	"fmt"
	"os"
	"strings"
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
	perSec := map[string]float64{}
	for _, r := range rs {
		perSec[r.name] = r.perSec
	}
	// Each API scenario is compared with the baseline and with the ceiling of its own shape.
	against := func(r result, what string) string {
		shape := "spread"
		switch {
		case strings.HasPrefix(r.name, "api hot"):
			shape = "hot account"
		case strings.HasPrefix(r.name, "api batch"):
			shape = "batch"
			if what == "baseline" {
				shape = "spread"
			}
		}
		base := perSec["pgbench "+what+" "+shape]
		if base == 0 || r.baseline || (what == "ceiling" && strings.Contains(r.name, "@")) { // fixed rate: the rate is the cap
			return ""
		}
		if what == "ceiling" {
			return fmt.Sprintf("%.0f%%", 100*r.perSec/base)
		}
		return fmt.Sprintf("%.1fx", r.perSec/base)
	}
	fmt.Println()
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "scenario\tclients\tdebits/s\tp50 ms\tp99 ms\terrors\tdropped\tvs baseline\tof ceiling\tbatcher\t")
	for _, r := range rs {
		p50, p99 := fmt.Sprintf("%.2f", r.p50), fmt.Sprintf("%.2f", r.p99)
		if r.baseline {
			p50, p99 = fmt.Sprintf("(avg %.2f)", r.avgMs), "-"
		}
		fmt.Fprintf(w, "%s\t%d\t%.0f\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t\n", r.name, r.clients, r.perSec, p50, p99, r.errors, r.dropped,
			against(r, "baseline"), against(r, "ceiling"), r.batcher)
	}
	w.Flush()
}
