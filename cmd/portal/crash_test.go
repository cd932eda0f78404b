package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"creditline/billing"
	"creditline/store"
	"creditline/store/pgtest"
	"github.com/lib/pq"
)

// TestKillUnderLoad SIGKILLs the server while 32 clients debit through the group commit,
// then checks that every acknowledged debit is in the ledger and `portal verify` is clean.
func TestKillUnderLoad(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := billing.NewService(store.New(db), billing.Options{})
	if err := svc.SeedCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	_, key, err := svc.CreateAPIKey(ctx, "", "crash test", "test")
	if err != nil {
		t.Fatal(err)
	}
	var accounts []string
	for i := 0; i < 8; i++ {
		a, err := svc.CreateAccount(ctx, billing.CreateAccountInput{Name: fmt.Sprintf("crash %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		svc.SetPlan(ctx, a.ID, "enterprise")
		if _, err := svc.Grant(ctx, billing.GrantInput{AccountID: a.ID, Source: "promo", Amount: billing.MustCredits("100000"), Reason: "t"}); err != nil {
			t.Fatal(err)
		}
		accounts = append(accounts, a.ID)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CREDITLINE_TEST_SERVE=1", "PAYMENTS=test", "DATABASE_URL="+url, "ADDR=127.0.0.1:0", "SESSION_SECRET="+strings.Repeat("k", 40))
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck
	base := ""
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
			base = u
			break
		}
	}
	go io.Copy(io.Discard, out) //nolint:errcheck
	if base == "" {
		t.Fatal("server did not start")
	}

	var mu sync.Mutex
	acked := map[string]string{} // usage id -> account
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for c := 0; c < 32; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			cl := &http.Client{Timeout: 5 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				acc := accounts[(c+i)%len(accounts)]
				body := fmt.Sprintf(`{"account":%q,"action":"chat.completion","attributes":{"model":"small-open"},"idempotency_key":"k-%d-%d"}`, acc, c, i)
				req, _ := http.NewRequest("POST", base+"/api/v1/usage", bytes.NewBufferString(body))
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := cl.Do(req)
				if err != nil {
					return // the server is gone
				}
				var r struct {
					ID string `json:"id"`
				}
				json.NewDecoder(resp.Body).Decode(&r) //nolint:errcheck
				resp.Body.Close()
				if resp.StatusCode == 201 {
					mu.Lock()
					acked[r.ID] = acc
					mu.Unlock()
				}
			}
		}(c)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait() //nolint:errcheck
	close(stop)
	wg.Wait()
	if len(acked) < 50 {
		t.Fatalf("only %d debits acknowledged before the kill; the load did not run", len(acked))
	}
	ids := make([]string, 0, len(acked))
	for id := range acked {
		ids = append(ids, id)
	}
	var found int
	if err := db.Get(&found, `SELECT count(*) FROM usage_events WHERE id = ANY($1)`, pq.Array(ids)); err != nil {
		t.Fatal(err)
	}
	if found != len(acked) {
		t.Fatalf("%d acknowledged debits, %d in the ledger after the kill", len(acked), found)
	}
	var buf bytes.Buffer
	if err := run(ctx, []string{"verify"}, env(map[string]string{"DATABASE_URL": url}), &buf, io.Discard); err != nil {
		t.Fatalf("verify after kill: %v\n%s", err, buf.String())
	}
	t.Logf("%d acknowledged debits survived a SIGKILL", len(acked))
}
