package store_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"creditline/billing"
	"creditline/store"
	"creditline/store/pgtest"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// grantSQL finds a statement that writes the grants table.
var grantSQL = regexp.MustCompile(`(?i)\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+grants\b`)

// grantWriterEnv is a service over a database of its own, for the checks below.
type grantWriterEnv struct {
	db  *sqlx.DB
	svc *billing.Service
}

// grantWriters lists every store method whose SQL writes grants, with a check that runs the
// billing operation using it on PostgreSQL and returns the account it changed. The test then
// requires that account's version to have moved: the cache contract (billing/doc.go).
var grantWriters = map[string]func(t *testing.T, e grantWriterEnv, acc string){
	"tx.InsertGrants": func(t *testing.T, e grantWriterEnv, acc string) {
		if _, err := e.svc.Grant(context.Background(), billing.GrantInput{AccountID: acc, Source: "promo", Amount: 5 * billing.Credit, Reason: "contract"}); err != nil {
			t.Fatal(err)
		}
	},
	"tx.WriteLedger": func(t *testing.T, e grantWriterEnv, acc string) { // a debit decided under locks
		locked := billing.NewService(store.New(e.db), billing.Options{LockedDebits: true})
		if _, err := locked.Debit(context.Background(), billing.DebitInput{AccountID: acc, Amount: billing.Credit, IdempotencyKey: "contract-locked"}); err != nil {
			t.Fatal(err)
		}
	},
	"Store.CommitLedger": func(t *testing.T, e grantWriterEnv, acc string) { // a lock-free debit
		free := e.svc.LedgerStats().LockFree.Load()
		if _, err := e.svc.Debit(context.Background(), billing.DebitInput{AccountID: acc, Amount: billing.Credit, IdempotencyKey: "contract-free"}); err != nil {
			t.Fatal(err)
		}
		if e.svc.LedgerStats().LockFree.Load() != free+1 {
			t.Fatal("the debit was not committed lock-free: CommitLedger was not exercised")
		}
	},
	"tx.bulkUsage": func(t *testing.T, e grantWriterEnv, acc string) { // bench and demo seeding only
		if _, err := store.New(e.db).SeedBulkUsage(context.Background(), e.svc, acc, 20, 0, nil); err != nil {
			t.Fatal(err)
		}
	},
}

// newAccountGrantWriters write grants only of accounts they insert in the same statement (bulk
// loads for load tests): no instance can have cached an account that did not exist, so no
// version has to move. The check runs the method and returns the accounts it made; the test
// requires them all new and every account that existed before untouched.
var newAccountGrantWriters = map[string]func(t *testing.T, e grantWriterEnv) []string{
	"Store.SeedBulkAccounts": func(t *testing.T, e grantWriterEnv) []string {
		ids, err := store.New(e.db).SeedBulkAccounts(context.Background(), store.BulkAccounts{N: 3, Prefix: "contract", Plan: "free",
			Credits: 5 * billing.Credit, Now: e.svc.Now()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	},
}

// grantCallers lists the billing functions allowed to call a grant-writing store method:
// the ledger's unit of work, which rewrites every account whose grants it changed.
var grantCallers = map[string]bool{
	"book.flush":             true, // InsertGrants and WriteLedger, with every dirty account's state
	"Service.commitLockFree": true, // CommitLedger, versioned states of every account of the batch
}

// TestEveryGrantWriterBumpsVersion enforces the cache contract (billing/doc.go): every store
// method whose SQL writes the grants table is listed in grantWriters with a check run here on
// PostgreSQL, and billing calls those methods only from the ledger's unit of work.
func TestEveryGrantWriterBumpsVersion(t *testing.T) {
	writers := grantWritingMethods(t, ".")
	if len(writers) == 0 {
		t.Fatal("found no store method writing grants: the scan is broken")
	}
	for _, w := range writers {
		if grantWriters[w] == nil && newAccountGrantWriters[w] == nil {
			t.Errorf("store method %s writes the grants table but is not in grantWriters (store/grantwriters_test.go).\n"+
				"Every change to an account's grants must also update its account row in the same transaction, bumping "+
				"accounts.version (billing/doc.go, \"The cache contract\"). Add %s to grantWriters with a check that runs "+
				"the billing operation using it; the test asserts the account's version moved.", w, w)
		}
	}
	names := make([]string, 0, len(writers))
	for _, w := range writers {
		names = append(names, w[strings.Index(w, ".")+1:])
	}
	for _, c := range callersOf(t, "../billing", names) {
		if !grantCallers[c.fn] {
			t.Errorf("%s calls %s, which writes grants, outside the ledger's unit of work.\n"+
				"Change grants through the book (loadBook, addGrant/draw/touchGrant, b.flush): it rewrites the account row, "+
				"bumping accounts.version, in the same transaction (billing/doc.go, \"The cache contract\"). If it must call "+
				"the store itself, add it to grantCallers in store/grantwriters_test.go with a check in grantWriters.", c.fn, c.method)
		}
	}

	db := pgtest.Fresh(t)
	svc := billing.NewService(store.New(db), billing.Options{})
	ctx := context.Background()
	if err := svc.SeedCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	e := grantWriterEnv{db: db, svc: svc}
	for _, w := range writers {
		if check := newAccountGrantWriters[w]; check != nil {
			t.Run(w, func(t *testing.T) {
				var before string
				if err := db.Get(&before, `SELECT COALESCE(string_agg(id || ':' || version, ',' ORDER BY id), '') FROM accounts`); err != nil {
					t.Fatal(err)
				}
				made := check(t, e)
				var after string
				if err := db.Get(&after, `SELECT COALESCE(string_agg(id || ':' || version, ',' ORDER BY id), '') FROM accounts
					WHERE id <> ALL($1)`, pq.Array(made)); err != nil {
					t.Fatal(err)
				}
				var grants int
				if err := db.Get(&grants, `SELECT count(*) FROM grants WHERE account_id = ANY($1)`, pq.Array(made)); err != nil || grants == 0 {
					t.Fatalf("the check for %s made no grant (%v): it does not exercise the writer", w, err)
				}
				if after != before {
					t.Fatalf("%s changed accounts that existed before it", w)
				}
			})
			continue
		}
		check := grantWriters[w]
		if check == nil {
			continue
		}
		t.Run(w, func(t *testing.T) {
			a, err := svc.CreateAccount(ctx, billing.CreateAccountInput{Name: "contract " + w})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Grant(ctx, billing.GrantInput{AccountID: a.ID, Source: "purchase", Amount: 100 * billing.Credit, Reason: "funds"}); err != nil {
				t.Fatal(err)
			}
			// One debit caches the account for the lock-free path.
			if _, err := svc.Debit(ctx, billing.DebitInput{AccountID: a.ID, Amount: billing.Credit, IdempotencyKey: "warm"}); err != nil {
				t.Fatal(err)
			}
			before, grants := accountState(t, db, a.ID)
			check(t, e, a.ID)
			after, grantsAfter := accountState(t, db, a.ID)
			if grantsAfter == grants {
				t.Fatalf("the check for %s changed no grant of the account: it does not exercise the writer", w)
			}
			if after <= before {
				t.Fatalf("%s changed the account's grants but its version stayed %d: the account row must be updated "+
					"in the same transaction (billing/doc.go, \"The cache contract\")", w, before)
			}
		})
	}
}

// accountState is the account's version and a fingerprint of its grants.
func accountState(t *testing.T, db *sqlx.DB, acc string) (int64, string) {
	t.Helper()
	var v int64
	var g string
	err := db.QueryRow(`SELECT a.version, coalesce((SELECT string_agg(id || ':' || remaining, ',' ORDER BY id) FROM grants WHERE account_id = a.id), '')
		FROM accounts a WHERE a.id = $1`, acc).Scan(&v, &g)
	if err != nil {
		t.Fatal(err)
	}
	return v, g
}

// parseDir parses the non-test Go files of a directory.
func parseDir(t *testing.T, dir string) (*token.FileSet, []*ast.File) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return fset, files
}

// funcName is "Recv.Name" for a method (pointer or not), "Name" for a function.
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	typ := fd.Recv.List[0].Type
	if s, ok := typ.(*ast.StarExpr); ok {
		typ = s.X
	}
	if id, ok := typ.(*ast.Ident); ok {
		return id.Name + "." + fd.Name.Name
	}
	return fd.Name.Name
}

// grantWritingMethods scans the store package: package-level constants and variables whose
// string literals write grants, then functions whose body holds such a literal, names such a
// value or calls such a function (to a fixed point). It returns the methods among them.
func grantWritingMethods(t *testing.T, dir string) []string {
	_, files := parseDir(t, dir)
	writes := func(n ast.Node, named map[string]bool) bool {
		found := false
		ast.Inspect(n, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.BasicLit:
				if x.Kind == token.STRING {
					if s, err := strconv.Unquote(x.Value); err == nil && grantSQL.MatchString(s) {
						found = true
					}
				}
			case *ast.Ident:
				found = found || named[x.Name]
			case *ast.SelectorExpr:
				found = found || named[x.Sel.Name]
			}
			return !found
		})
		return found
	}
	named := map[string]bool{}
	funcs := map[string]*ast.FuncDecl{}
	for _, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					if vs, ok := sp.(*ast.ValueSpec); ok && writes(vs, nil) {
						for _, n := range vs.Names {
							named[n.Name] = true
						}
					}
				}
			case *ast.FuncDecl:
				funcs[funcName(d)] = d
			}
		}
	}
	result := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for name, fd := range funcs {
			if result[name] || fd.Body == nil || !writes(fd.Body, named) {
				continue
			}
			result[name], changed = true, true
			if fd.Recv == nil {
				named[fd.Name.Name] = true
			}
		}
	}
	var out []string
	for name := range result {
		if strings.Contains(name, ".") {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

type grantCall struct{ fn, method string }

// callersOf finds, in the package at dir, the functions that call a method named in names.
func callersOf(t *testing.T, dir string, names []string) []grantCall {
	_, files := parseDir(t, dir)
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []grantCall
	for _, f := range files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			seen := map[string]bool{}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					if sel, ok := call.Fun.(*ast.SelectorExpr); ok && want[sel.Sel.Name] && !seen[sel.Sel.Name] {
						seen[sel.Sel.Name] = true
						out = append(out, grantCall{fn: funcName(fd), method: sel.Sel.Name})
					}
				}
				return true
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}
