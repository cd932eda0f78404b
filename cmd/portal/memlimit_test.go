package main

import (
	"errors"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	files := func(m map[string]string) func(string) ([]byte, error) {
		return func(p string) ([]byte, error) {
			if s, ok := m[p]; ok {
				return []byte(s), nil
			}
			return nil, errors.New("no such file")
		}
	}
	const meminfo = "MemTotal:       16384000 kB\nMemFree:         1000 kB\n"
	cases := []struct {
		name  string
		files map[string]string
		want  int64
	}{
		{"machine only", map[string]string{"/proc/meminfo": meminfo}, 16384000 * 1024 / 4 * 3},
		{"cgroup smaller", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "2147483648\n"}, 2147483648 / 4 * 3},
		{"cgroup unlimited", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "max\n"}, 16384000 * 1024 / 4 * 3},
		{"cgroup larger than the machine", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "99999999999999\n"}, 16384000 * 1024 / 4 * 3},
		{"nothing readable", nil, 0},
		{"garbage", map[string]string{"/proc/meminfo": "MemTotal: lots kB\n", "/sys/fs/cgroup/memory.max": "-5"}, 0},
	}
	for _, c := range cases {
		if got := memoryLimit(files(c.files)); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	if defaultMemoryLimit() <= 0 {
		t.Error("no memory limit found on this machine")
	}
}
