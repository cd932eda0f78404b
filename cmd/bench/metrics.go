package main

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
)

// benchMetricsToken is the METRICS_TOKEN the benchmark gives the server it starts.
const benchMetricsToken = "bench-metrics-token-0123456789"

// gcCounters reads the batcher's counters from the server's /metrics.
type gcCounters struct{ tx, ops, txSec, waitSec, lockFree, locked, cached float64 }

func readGC(base string) gcCounters {
	var c gcCounters
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+benchMetricsToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return c
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, _ := strconv.ParseFloat(val, 64)
		switch name {
		case "creditline_group_commit_transactions_total":
			c.tx = v
		case "creditline_group_commit_ops_total":
			c.ops = v
		case "creditline_group_commit_tx_seconds_total":
			c.txSec = v
		case "creditline_group_commit_wait_seconds_total":
			c.waitSec = v
		case "creditline_ledger_lock_free_batches_total":
			c.lockFree = v
		case "creditline_ledger_locked_batches_total":
			c.locked = v
		case "creditline_ledger_cache_accounts":
			c.cached = v
		}
	}
	return c
}

// batcherNote describes what the batcher did between two readings.
func batcherNote(a, b gcCounters) string {
	tx, ops := b.tx-a.tx, b.ops-a.ops
	if tx == 0 || ops == 0 {
		return ""
	}
	return strconv.FormatFloat(ops/tx, 'f', 1, 64) + " per tx, " +
		strconv.FormatFloat((b.txSec-a.txSec)/tx*1000, 'f', 2, 64) + " ms/tx, queued " +
		strconv.FormatFloat((b.waitSec-a.waitSec)/ops*1000, 'f', 2, 64) + " ms, " +
		strconv.FormatFloat(100*(b.lockFree-a.lockFree)/max(1, b.lockFree-a.lockFree+b.locked-a.locked), 'f', 0, 64) + "% lock-free"
}

// lockFreeShare is the share of debit batches committed lock-free between two readings (-1: none).
func lockFreeShare(a, b gcCounters) float64 {
	lf, lk := b.lockFree-a.lockFree, b.locked-a.locked
	if lf+lk <= 0 {
		return -1
	}
	return lf / (lf + lk)
}
