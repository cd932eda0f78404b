package billing_test

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The arrows of STYLE.md, as they stand: cmd → web → handlers → billing ← store, payments →
// billing, handlers → views, views → billing types only; inside the domain billing →
// billing/pricing → billing/value, and what only reads the ledger (billing/mail) sits on
// billing. Patterns are module-relative; "x/..." is x and every package under it.

// billingTypes is what a package outside the domain may import of it.
var billingTypes = []string{"billing", "billing/pricing", "billing/value"}

type layer struct {
	pkg string   // a package pattern
	may []string // patterns of the packages of ours it may import
}

// layers says, per package, which packages of ours its non-test files may import. The first
// pattern matching a package is its rule; a package no rule matches fails the test, so a new
// package has to state its place.
var layers = []layer{
	{"billing/value", nil},
	{"billing/pricing", []string{"billing/value"}},
	{"billing", []string{"billing/pricing", "billing/value"}},
	{"billing/abuse/abusesim", append([]string{"billing/abuse"}, billingTypes...)},
	{"billing/...", billingTypes},
	{"store/...", append([]string{"store/...", "migrations", "billing/webhooks", "billing/abuse", "billing/revenue", "billing/reconcile", "billing/simulate"}, billingTypes...)},
	{"payments/...", billingTypes},
	{"views/...", append([]string{"views/...", "billing/webhooks", "billing/abuse", "billing/revenue", "billing/reconcile", "billing/simulate"}, billingTypes...)},
	{"handlers/...", append([]string{"views/...", "static", "billing/webhooks", "billing/abuse", "billing/revenue", "billing/reconcile", "billing/simulate"}, billingTypes...)},
	// The test harnesses wire the whole server, as main does.
	{"web/webtest", []string{"web", "handlers", "payments", "store/...", "billing/..."}},
	{"web/browsertest", nil},
	{"web/...", append([]string{"handlers", "views/...", "static"}, billingTypes...)},
	{"cmd/...", []string{"web", "handlers", "payments", "store/...", "billing/..."}},
	{"migrations", nil},
	{"static", nil},
}

// adapters confine a library to the packages named after it: an import path with one of these
// prefixes is allowed only in the listed packages.
var adapters = []struct {
	lib  string
	only []string
}{
	{"github.com/stripe/stripe-go", []string{"payments/..."}},
	{"github.com/jmoiron/sqlx", []string{"store/...", "cmd/..."}},
	{"github.com/lib/pq", []string{"store/...", "cmd/..."}},
	{"database/sql", []string{"store/...", "cmd/..."}},
	{"github.com/labstack/echo", []string{"web/...", "handlers/..."}},
	{"github.com/a-h/templ", []string{"views/...", "handlers/..."}},
	{"net/http", []string{"web/...", "handlers/...", "payments/...", "cmd/...", "billing/webhooks"}},
}

// TestImportDirection parses every non-test .go file of the module and checks its imports
// against layers and adapters.
func TestImportDirection(t *testing.T) {
	root, module := moduleRoot(t)
	files := 0
	for file, imports := range goFiles(t, root) {
		files++
		pkg := filepath.ToSlash(filepath.Dir(file))
		for _, v := range checkImports(module, pkg, imports) {
			t.Errorf("%s: %s", file, v)
		}
	}
	if files < 100 {
		t.Fatalf("parsed %d files from %s; the walk is broken", files, root)
	}
}

// TestImportDirectionCatchesViolations feeds checkImports the imports each arrow forbids.
func TestImportDirectionCatchesViolations(t *testing.T) {
	cases := []struct{ pkg, imp, rule string }{
		{"billing/value", "m/billing", "billing/value may import nothing of ours"},
		{"billing/pricing", "m/billing", "billing/pricing may import"},
		{"billing", "m/store", "billing may import"},
		{"billing", "m/billing/mail", "billing may import"},
		{"billing/mail", "m/handlers", "billing/... may import"},
		{"views/pages", "m/handlers", "views/... may import"},
		{"views", "m/billing/mail", "views/... may import"},
		{"store", "m/handlers", "store/... may import"},
		{"handlers", "m/store", "handlers/... may import"},
		{"web", "m/payments", "web/... may import"},
		{"billing", "github.com/stripe/stripe-go/v76", "github.com/stripe/stripe-go only in payments/..."},
		{"handlers", "github.com/jmoiron/sqlx", "github.com/jmoiron/sqlx only in"},
		{"billing/pricing", "net/http", "net/http only in"},
		{"billing", "github.com/labstack/echo/v4", "github.com/labstack/echo only in"},
	}
	for _, c := range cases {
		got := checkImports("m", c.pkg, []string{c.imp})
		if len(got) != 1 || !strings.Contains(got[0], c.imp) || !strings.Contains(got[0], c.rule) {
			t.Errorf("%s importing %s: got %q, want one violation naming %q", c.pkg, c.imp, got, c.rule)
		}
	}
	if got := checkImports("m", "tools", nil); len(got) != 1 || !strings.Contains(got[0], "no rule for package tools") {
		t.Errorf("a package without a rule: %q", got)
	}
	for pkg, imp := range map[string]string{"billing": "m/billing/pricing", "billing/pricing": "m/billing/value",
		"store/pgtest": "m/store", "cmd/portal": "github.com/lib/pq", "views/components": "m/views", "web": "m/handlers"} {
		if got := checkImports("m", pkg, []string{imp}); len(got) != 0 {
			t.Errorf("%s importing %s: %q, want allowed", pkg, imp, got)
		}
	}
}

// checkImports returns one message per import of pkg (module-relative) that a rule forbids.
func checkImports(module, pkg string, imports []string) []string {
	i := slices.IndexFunc(layers, func(l layer) bool { return matches(l.pkg, pkg) })
	if i < 0 {
		return []string{fmt.Sprintf("no rule for package %s: give it a place in layers", pkg)}
	}
	rule := layers[i]
	var out []string
	for _, imp := range imports {
		if rel, ours := strings.CutPrefix(imp, module+"/"); ours {
			if !slices.ContainsFunc(rule.may, func(p string) bool { return matches(p, rel) }) {
				out = append(out, fmt.Sprintf("imports %s, but %s may import %s", imp, rule.pkg, mayText(rule.may)))
			}
			continue
		}
		for _, a := range adapters {
			if imp == a.lib || strings.HasPrefix(imp, a.lib+"/") {
				if !slices.ContainsFunc(a.only, func(p string) bool { return matches(p, pkg) }) {
					out = append(out, fmt.Sprintf("imports %s, but %s only in %s", imp, a.lib, strings.Join(a.only, ", ")))
				}
			}
		}
	}
	return out
}

func mayText(may []string) string {
	if len(may) == 0 {
		return "nothing of ours"
	}
	return "only " + strings.Join(may, ", ")
}

// matches reports whether pkg is pattern, or under it when pattern ends in "/...".
func matches(pattern, pkg string) bool {
	if base, tree := strings.CutSuffix(pattern, "/..."); tree {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == pattern
}

// moduleRoot walks up from the test's directory to go.mod and reads the module path.
func moduleRoot(t *testing.T) (root, module string) {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if m, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
					return dir, strings.Trim(strings.TrimSpace(m), `"`)
				}
			}
			t.Fatalf("%s/go.mod names no module", dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// goFiles maps each non-test .go file (relative to root) to its import paths. It skips what
// the go tool skips: testdata, directories starting with . or _, and nested modules.
func goFiles(t *testing.T, root string) map[string][]string {
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path == root {
				return nil
			}
			if name == "testdata" || name == "node_modules" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, s := range f.Imports {
			p, _ := strconv.Unquote(s.Path.Value)
			out[rel] = append(out[rel], p)
		}
		if out[rel] == nil {
			out[rel] = []string{}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
