package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type server struct {
	cmd  *exec.Cmd
	base string
	bin  string
	db   string
}

// startServer runs `portal serve` on a free port and waits until it is ready.
func startServer(ctx context.Context, bin, dbURL string) (*server, error) {
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "PAYMENTS=test", "METRICS_TOKEN="+benchMetricsToken, "ADDR=127.0.0.1:0", "SESSION_SECRET="+strings.Repeat("b", 40), "PPROF_ADDR="+os.Getenv("BENCH_PPROF_ADDR"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = io.Discard
	if path := os.Getenv("BENCH_SERVER_LOG"); path != "" { // the server's log, for a closer look
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		defer f.Close() // the child has its own descriptor once started
		cmd.Stderr = f
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the benchmark
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, bin: bin, db: dbURL}
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "listening on "); ok {
			s.base = strings.TrimSpace(u)
			break
		}
	}
	go io.Copy(io.Discard, out) //nolint:errcheck
	if s.base == "" {
		s.kill()
		return nil, fmt.Errorf("portal serve did not start")
	}
	for i := 0; i < 100; i++ {
		if r, err := http.Get(s.base + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return s, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.kill()
	return nil, fmt.Errorf("portal serve never became ready")
}

func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
}

// verify runs `portal verify` on the benchmark database.
func verify(ctx context.Context, bin, dbURL string) error {
	cmd := exec.CommandContext(ctx, bin, "verify")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	fmt.Printf("\nportal verify (%.1f s): %s", time.Since(start).Seconds(), out)
	return err
}

// rss is the server's resident memory in bytes (0 when unknown), from /proc.
func (s *server) rss() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
