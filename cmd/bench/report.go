package main

import (
	"fmt"
	"os"
	"strconv"
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
	// lockFreeShare is the share of debit batches committed lock-free after the warm-up (-1: unknown).
	lockFreeShare float64
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
		base := perSec["pgbench "+what+" "+shape+accountsSuffix(r.name)]
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

// accountsSuffix is the " (N accounts)" ending of a scenario's name, if any.
func accountsSuffix(name string) string {
	if i := strings.LastIndex(name, " ("); i >= 0 && strings.HasSuffix(name, " accounts)") {
		return name[i:]
	}
	return ""
}

// scaleRow is one account count's spread run on a fresh server.
type scaleRow struct {
	accounts         int
	spread           result
	rssStart, rssEnd int64
	cached           int // accounts in the ledger cache at the end
}

// reportScale prints the spread over each account count beside the first (and each beside
// the pgbench baseline spread over the same accounts, run in this same run).
func reportScale(rows []scaleRow, rs []result) {
	perSec := map[string]float64{}
	for _, r := range rs {
		perSec[r.name] = r.perSec
	}
	fmt.Println("\nspread by number of accounts (each on a fresh server):")
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "accounts\tapi spread debits/s\tvs first\tpgbench baseline\tvs baseline\tp99 ms\tlock-free batches\tcached after\tRSS after MB\t")
	for _, row := range rows {
		base := perSec["pgbench baseline spread"+accountsSuffix(row.spread.name)]
		vs := "-"
		if base > 0 {
			vs = fmt.Sprintf("%.2fx", row.spread.perSec/base)
		}
		lf := "-"
		if row.spread.lockFreeShare >= 0 {
			lf = fmt.Sprintf("%.0f%%", 100*row.spread.lockFreeShare)
		}
		fmt.Fprintf(w, "%s\t%.0f\t%.2fx\t%.0f\t%s\t%.2f\t%s\t%s\t%.0f\t\n", thousands(row.accounts), row.spread.perSec,
			row.spread.perSec/max(1, rows[0].spread.perSec), base, vs, row.spread.p99, lf, thousands(row.cached), float64(row.rssEnd)/(1<<20))
	}
	w.Flush()
	if n := len(rows); n > 1 && rows[n-1].cached > rows[0].cached {
		a, b := rows[0], rows[n-1]
		fmt.Printf("resident memory per extra cached account: %.0f bytes ((%.0f MB - %.0f MB) / (%s - %s accounts cached))\n",
			float64(b.rssEnd-a.rssEnd)/float64(b.cached-a.cached), float64(b.rssEnd)/(1<<20), float64(a.rssEnd)/(1<<20),
			thousands(b.cached), thousands(a.cached))
	}
}

// thousands writes n with thousands separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
