package web_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"creditline/handlers"
	"creditline/web/webtest"
)

// The OpenAPI document (handlers/openapi/openapi.json) is kept true by these tests: it lists
// exactly the routes web/routes.go registers under /api/v1, it is internally sound, and it is
// what the server serves.

const apiPrefix = "/api/v1"

var (
	echoParam  = regexp.MustCompile(`(\w+)\s+\*echo\.Echo\b`)
	groupDecl  = regexp.MustCompile(`^(\w+)\s*:?=\s*(\w+)\.Group\("([^"]*)"`)
	routeCall  = regexp.MustCompile(`^(\w+)\.(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|Any|Match|Add|RouteNotFound)\(`)
	routePath  = regexp.MustCompile(`^\w+\.(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\("([^"]*)"`)
	pathParams = regexp.MustCompile(`:(\w+)`)
	docParams  = regexp.MustCompile(`\{(\w+)\}`)
)

// apiRoutes reads routes.go and returns "METHOD /path" for every route whose full path is
// under /api/v1, with Echo's :param written as OpenAPI's {param}.
func apiRoutes(t *testing.T, src string) []string {
	t.Helper()
	prefix := map[string]string{} // variable → path prefix
	for _, m := range echoParam.FindAllStringSubmatch(src, -1) {
		prefix[m[1]] = ""
	}
	if len(prefix) == 0 {
		t.Fatal("routes.go: found no *echo.Echo parameter to start from")
	}
	var out []string
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		if m := groupDecl.FindStringSubmatch(line); m != nil {
			parent, ok := prefix[m[2]]
			if !ok {
				t.Fatalf("routes.go:%d: group of unknown router %q", i+1, m[2])
			}
			prefix[m[1]] = parent + m[3]
			continue
		}
		m := routeCall.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		base, ok := prefix[m[1]]
		if !ok {
			continue // not a router (e.g. a helper call)
		}
		p := routePath.FindStringSubmatch(line)
		if p == nil {
			// Any, Match, Add or a computed path: this test cannot tell what it registers.
			if strings.HasPrefix(base, apiPrefix) || base == "" {
				t.Errorf("routes.go:%d: cannot read this route; register API routes as x.METHOD(\"/literal\", h): %s", i+1, line)
			}
			continue
		}
		full := base + p[2]
		if full != apiPrefix && !strings.HasPrefix(full, apiPrefix+"/") {
			continue
		}
		out = append(out, p[1]+" "+pathParams.ReplaceAllString(full, "{$1}"))
	}
	sort.Strings(out)
	return out
}

func loadDocument(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(handlers.OpenAPIDocument))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if dec.More() {
		t.Fatal("openapi.json has data after the document")
	}
	return doc
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// operations returns the document's operations by "METHOD /path".
func operations(t *testing.T, doc map[string]any) map[string]map[string]any {
	t.Helper()
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		t.Fatal("openapi.json: no paths object")
	}
	ops := map[string]map[string]any{}
	for path, v := range paths {
		item, ok := v.(map[string]any)
		if !ok {
			t.Errorf("paths[%s] is not an object", path)
			continue
		}
		for k, op := range item {
			if !slices.Contains(httpMethods, k) {
				continue
			}
			o, ok := op.(map[string]any)
			if !ok {
				t.Errorf("%s %s is not an object", k, path)
				continue
			}
			ops[strings.ToUpper(k)+" "+path] = o
		}
	}
	return ops
}

func TestOpenAPIDocumentsExactlyTheRoutes(t *testing.T) {
	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	routes := apiRoutes(t, string(src))
	// A refactor that hides the routes from this parser must not pass silently.
	for _, must := range []string{"GET /api/v1/openapi.json", "POST /api/v1/usage", "GET /api/v1/accounts/{id}"} {
		if !slices.Contains(routes, must) {
			t.Fatalf("routes.go parse found %d API routes and not %q: %v", len(routes), must, routes)
		}
	}
	ops := operations(t, loadDocument(t))
	for _, r := range routes {
		if ops[r] == nil {
			t.Errorf("route %s (web/routes.go) is missing from handlers/openapi/openapi.json", r)
		}
	}
	var documented []string
	for k := range ops {
		documented = append(documented, k)
	}
	sort.Strings(documented)
	for _, d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("operation %s is documented in handlers/openapi/openapi.json but web/routes.go does not register it", d)
		}
	}
}

func TestOpenAPIDocumentIsSound(t *testing.T) {
	doc := loadDocument(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Errorf("openapi = %q, want 3.x", v)
	}
	if info, _ := doc["info"].(map[string]any); info["title"] == nil || info["version"] == nil {
		t.Error("info needs a title and a version")
	}

	// Every $ref resolves inside the document.
	var walk func(where string, n any)
	walk = func(where string, n any) {
		switch v := n.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if _, err := resolvePointer(doc, ref); err != nil {
					t.Errorf("%s: $ref %q does not resolve: %v", where, ref, err)
				}
			}
			for k, c := range v {
				walk(where+"/"+k, c)
			}
		case []any:
			for i, c := range v {
				walk(where+"/"+strconv.Itoa(i), c)
			}
		}
	}
	walk("#", doc)

	ops := operations(t, doc)
	ids := map[string]string{}
	for key, op := range ops {
		id, _ := op["operationId"].(string)
		switch {
		case id == "":
			t.Errorf("%s has no operationId", key)
		case ids[id] != "":
			t.Errorf("operationId %q is used by %s and %s", id, ids[id], key)
		default:
			ids[id] = key
		}
		if s, _ := op["summary"].(string); s == "" {
			t.Errorf("%s has no summary", key)
		}
		path := strings.SplitN(key, " ", 2)[1]
		for _, m := range docParams.FindAllStringSubmatch(path, -1) {
			if !hasPathParam(t, doc, op, m[1]) {
				t.Errorf("%s does not declare its path parameter %q", key, m[1])
			}
		}
		responses, _ := op["responses"].(map[string]any)
		if len(responses) == 0 {
			t.Errorf("%s has no responses", key)
		}
		success := false
		for status, r := range responses {
			code, err := strconv.Atoi(status)
			if err != nil {
				t.Errorf("%s: response %q is not a status code", key, status)
				continue
			}
			if code < 400 {
				success = true
				continue
			}
			// Every error response carries the one Error schema.
			res, err := resolveNode(doc, r)
			if err != nil {
				t.Errorf("%s %d: %v", key, code, err)
				continue
			}
			content, _ := res["content"].(map[string]any)
			media, _ := content["application/json"].(map[string]any)
			schema, _ := media["schema"].(map[string]any)
			if ref, _ := schema["$ref"].(string); ref != "#/components/schemas/Error" {
				t.Errorf("%s %d: the error response's application/json schema is %v, want $ref #/components/schemas/Error", key, code, schema)
			}
			if code == http.StatusTooManyRequests {
				if h, _ := res["headers"].(map[string]any); h["Retry-After"] == nil {
					t.Errorf("%s 429 does not document the Retry-After header", key)
				}
			}
		}
		if !success {
			t.Errorf("%s documents no success response", key)
		}
		// Only the document itself is open; everything else needs the bearer key.
		sec, declared := op["security"].([]any)
		if key == "GET /api/v1/openapi.json" {
			if !declared || len(sec) != 0 {
				t.Errorf("%s must declare security: [] (no key needed)", key)
			}
		} else if declared {
			t.Errorf("%s overrides the bearer security requirement", key)
		}
	}
	if s, _ := resolvePointer(doc, "#/components/securitySchemes/bearer"); s == nil {
		t.Error("components.securitySchemes.bearer is missing")
	}

	// The Error schema's code enum is exactly the billing package's codes, and the warnings
	// enum exactly its warnings.
	codes := stringConsts(t, "../billing/value/errors.go", "E")
	if got := enumOf(t, doc, "#/components/schemas/ErrorBody/properties/code"); !sameSet(got, codes) {
		t.Errorf("ErrorBody.code enum = %v, billing/value/errors.go has %v", got, codes)
	}
	warnings := stringConsts(t, "../billing/debits.go", "Warn")
	if got := enumOf(t, doc, "#/components/schemas/Warning"); !sameSet(got, warnings) {
		t.Errorf("Warning enum = %v, billing/debits.go has %v", got, warnings)
	}
}

func TestOpenAPIIsServedWithoutAKey(t *testing.T) {
	env := webtest.Start(t)
	resp, err := http.Get(env.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json without a key: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	if !bytes.Equal(body, handlers.OpenAPIDocument) {
		t.Error("the served document differs from the embedded one")
	}
	onDisk, err := os.ReadFile("../handlers/openapi/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, onDisk) {
		t.Error("the served document differs from handlers/openapi/openapi.json")
	}
}

// resolvePointer follows a local JSON pointer ("#/a/b").
func resolvePointer(doc map[string]any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, errors.New("only local references are allowed")
	}
	var cur any = doc
	if rest == "" {
		return cur, nil
	}
	for _, part := range strings.Split(strings.TrimPrefix(rest, "/"), "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[part]
			if !ok {
				return nil, fmt.Errorf("no %q", part)
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(v) {
				return nil, fmt.Errorf("no index %q", part)
			}
			cur = v[i]
		default:
			return nil, fmt.Errorf("cannot descend into %q", part)
		}
	}
	return cur, nil
}

// resolveNode follows $ref until it reaches an object without one.
func resolveNode(doc map[string]any, n any) (map[string]any, error) {
	for range 10 {
		m, ok := n.(map[string]any)
		if !ok {
			return nil, errors.New("not an object")
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, nil
		}
		next, err := resolvePointer(doc, ref)
		if err != nil {
			return nil, err
		}
		n = next
	}
	return nil, errors.New("$ref chain too long")
}

func hasPathParam(t *testing.T, doc map[string]any, op map[string]any, name string) bool {
	params, _ := op["parameters"].([]any)
	for _, p := range params {
		pm, err := resolveNode(doc, p)
		if err != nil {
			t.Errorf("parameter: %v", err)
			continue
		}
		if pm["in"] == "path" && pm["name"] == name && pm["required"] == true {
			return true
		}
	}
	return false
}

func enumOf(t *testing.T, doc map[string]any, ref string) []string {
	t.Helper()
	n, err := resolvePointer(doc, ref)
	if err != nil {
		t.Fatalf("%s: %v", ref, err)
	}
	m, _ := n.(map[string]any)
	var out []string
	for _, v := range m["enum"].([]any) {
		out = append(out, v.(string))
	}
	return out
}

// stringConsts reads the string constants named prefix+Upper... from a Go file.
func stringConsts(t *testing.T, file, prefix string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, name := range vs.Names {
				rest, ok := strings.CutPrefix(name.Name, prefix)
				if !ok || rest == "" || rest[0] < 'A' || rest[0] > 'Z' || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, _ := strconv.Unquote(lit.Value)
					out = append(out, v)
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no %s... string constants", file, prefix)
	}
	return out
}

// sameSet reports whether a and b hold the same strings, each once.
func sameSet(a, b []string) bool {
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	return slices.Equal(a, b) && len(slices.Compact(a)) == len(b)
}
