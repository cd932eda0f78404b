package browsertest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// AxeTags are the axe-core rule sets every page must pass: WCAG 2.1 level A and AA.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// AxePath is where axe.min.js is read from: $AXE_CORE_JS, else the cache .ci/setup fills
// (`npm install --prefix <user cache>/creditline/axe-core axe-core@<version>`).
func AxePath() string {
	if p := os.Getenv("AXE_CORE_JS"); p != "" {
		return p
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "creditline", "axe-core", "node_modules", "axe-core", "axe.min.js")
}

var axeOnce struct {
	sync.Once
	src string
	err error
}

func axeSource() (string, error) {
	axeOnce.Do(func() {
		b, err := os.ReadFile(AxePath())
		axeOnce.src, axeOnce.err = string(b), err
	})
	return axeOnce.src, axeOnce.err
}

// AxeViolation is one failed rule with the elements that fail it.
type AxeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	URL    string `json:"helpUrl"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// axeRun resolves to the violations as plain JSON values (the result objects hold DOM nodes).
const axeRun = `axe.run(document, {runOnly: {type: "tag", values: %s}, resultTypes: ["violations"]})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target, html: n.html, failureSummary: n.failureSummary}))})))`

// Violations runs axe-core over the page as it is now and returns what fails WCAG 2.1 AA.
func (b *Browser) Violations() []AxeViolation {
	b.t.Helper()
	src, err := axeSource()
	if err != nil {
		b.t.Fatalf("axe-core: %v (run .ci/setup, or set AXE_CORE_JS)", err)
	}
	tags, _ := json.Marshal(AxeTags)
	var present bool
	b.Run(chromedp.Evaluate(`typeof window.axe === "object"`, &present))
	if !present {
		b.Run(chromedp.Evaluate(src+"\n;true", nil))
	}
	var vs []AxeViolation
	b.Run(chromedp.Evaluate(fmt.Sprintf(axeRun, tags), &vs,
		func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	return vs
}

// CheckA11y fails the test (and goes on) for each WCAG 2.1 AA violation on the page as it is
// now, naming the page, rule, impact, elements and the fix's summary. A violation already
// reported in this browser (same rule, same element) is not repeated.
func (b *Browser) CheckA11y(page string) {
	b.t.Helper()
	vs := b.Violations()
	if len(vs) == 0 {
		return
	}
	var sb strings.Builder
	for _, v := range vs {
		for _, n := range v.Nodes {
			target := fmt.Sprint(n.Target...)
			key := v.ID + " " + target
			if b.reported[key] {
				continue
			}
			b.reported[key] = true
			html := n.HTML
			if len(html) > 160 {
				html = html[:160] + "…"
			}
			fmt.Fprintf(&sb, "\n  %s (%s) at %s: %s\n    %s\n    %s", v.ID, v.Impact, target, v.Help, html,
				strings.ReplaceAll(strings.TrimSpace(n.Summary), "\n", "\n    "))
		}
	}
	if sb.Len() == 0 {
		return
	}
	b.Screenshot("a11y-" + sanitize(b.t.Name()+"-"+page))
	b.t.Errorf("accessibility (axe-core, WCAG 2.1 AA) on %s:%s", page, sb.String())
}
