package views_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The committed generated files must be what the tools make from their sources today, so
// that a plain `go test ./...` catches an edited .templ (or a new Tailwind class) that was
// not regenerated. `make generate` refreshes both.

// moduleRoot is the folder holding go.mod, above this package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("no go.mod in %s: %v", dir, err)
	}
	return dir
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// templOutputs maps each *_templ.go under dir (relative path) to its content.
func templOutputs(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, "_templ.go") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTemplOutputIsFresh generates a copy of views/ with the module's templ and compares it
// with the committed *_templ.go files.
func TestTemplOutputIsFresh(t *testing.T) {
	root := moduleRoot(t)
	views := filepath.Join(root, "views")
	tmp := filepath.Join(t.TempDir(), "views")
	if err := os.CopyFS(tmp, os.DirFS(views)); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool(), "tool", "templ", "generate", "-path", tmp)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go tool templ generate: %v\n%s", err, out)
	}
	want, got := templOutputs(t, tmp), templOutputs(t, views)
	var stale []string
	for name, w := range want {
		if g, ok := got[name]; !ok {
			stale = append(stale, name+" (missing)")
		} else if !bytes.Equal(g, w) {
			stale = append(stale, name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			stale = append(stale, name+" (its .templ is gone)")
		}
	}
	if len(stale) > 0 {
		t.Fatalf("templ output is stale: run `make templ` (go tool templ generate -path views) and commit:\n  %s", strings.Join(stale, "\n  "))
	}
}

// canInstall says whether .ci/setup could install nodejs and npm here.
func canInstall() bool {
	return os.Geteuid() == 0 || exec.Command("sudo", "-n", "true").Run() == nil
}

// TestCSSIsFresh builds the stylesheet as `make css` does and compares it with the committed
// one. Without npx it skips only where .ci/setup could not install it.
func TestCSSIsFresh(t *testing.T) {
	if _, err := exec.LookPath("npx"); err != nil {
		if !canInstall() {
			t.Skip("static/app.css NOT checked: no npx here and it cannot be installed (not root, no sudo); install nodejs and npm")
		}
		t.Fatal("npx not found: run .ci/setup (Debian: apt-get install -y nodejs npm) to check static/app.css")
	}
	root := moduleRoot(t)
	built := filepath.Join(t.TempDir(), "app.css")
	cmd := exec.Command("npx", "--yes", "--prefer-offline", "tailwindcss@3.4.19",
		"-c", "tailwind.config.js", "-i", "static/src/app.css", "-o", built, "--minify")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("could not build the CSS to compare (npx tailwindcss): %v\n%s", err, out)
	}
	want, err := os.ReadFile(built)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, "static", "app.css"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("static/app.css is stale (%d bytes committed, %d built): run `make css` and commit", len(got), len(want))
	}
}
