package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// memoryLimit is the soft memory limit portal sets when GOMEMLIMIT is not set: three quarters
// of the memory it may use (the cgroup's memory.max, else the machine's MemTotal), so that
// GOGC 400 (a heap up to five times live) never grows past the machine: near the limit the
// collector runs as often as it must. 0: unknown, no limit set.
func memoryLimit(readFile func(string) ([]byte, error)) int64 {
	avail := int64(0)
	if b, err := readFile("/sys/fs/cgroup/memory.max"); err == nil { // cgroup v2; "max": none
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 {
			avail = n
		}
	}
	if b, err := readFile("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 3 && f[0] == "MemTotal:" && f[2] == "kB" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil && kb > 0 && kb < 1<<40 {
					if total := kb * 1024; avail == 0 || total < avail {
						avail = total
					}
				}
			}
		}
	}
	return avail / 4 * 3
}

// defaultMemoryLimit reads the real files.
func defaultMemoryLimit() int64 { return memoryLimit(os.ReadFile) }
