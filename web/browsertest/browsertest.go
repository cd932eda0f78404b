// Package browsertest drives Debian's headless Chromium (chromedp) against a running server
// and saves screenshots as test artifacts under $ARTIFACTS_DIR (default: artifacts/ at the
// repository root).
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser is one headless Chromium with its own profile.
type Browser struct {
	t    testing.TB
	Ctx  context.Context
	Base string
	// reported holds the axe violations already reported (rule and element).
	reported map[string]bool
}

func chromiumPath() string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// canInstallPackages says whether .ci/setup could install a Debian package here.
func canInstallPackages() bool {
	return os.Geteuid() == 0 || exec.Command("sudo", "-n", "true").Run() == nil
}

// New starts Chromium at the given window width; it is closed when the test ends.
// Chromium or axe-core missing fails the test when .ci/setup could install them, and skips it
// with the reason only where it could not (not root, no sudo, no npm).
func New(t testing.TB, base string, width, height int) *Browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if !canInstallPackages() {
			t.Skip("chromium not installed and cannot be installed here (not root, no sudo): browser test skipped; install chromium or set CHROMIUM")
		}
		t.Fatal("Chromium not found: run .ci/setup (Debian: apt-get install -y chromium) or set CHROMIUM=/path/to/chromium")
	}
	if _, err := axeSource(); err != nil {
		if _, npm := exec.LookPath("npm"); npm != nil && !canInstallPackages() {
			t.Skipf("axe-core not installed and cannot be installed here (no npm, not root, no sudo): browser test skipped (%v)", err)
		}
		t.Fatalf("axe-core not found: run .ci/setup, or set AXE_CORE_JS=/path/to/axe.min.js (%v)", err)
	}
	profile, err := os.MkdirTemp("", "creditline-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(width, height),
		chromedp.UserDataDir(profile),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	tctx, cancelTimeout := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelBrowser(); cancelAlloc(); _ = os.RemoveAll(profile) })
	if err := chromedp.Run(tctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	return &Browser{t: t, Ctx: tctx, Base: base, reported: map[string]bool{}}
}

// Run runs actions and fails the test on error.
func (b *Browser) Run(actions ...chromedp.Action) {
	b.t.Helper()
	if err := chromedp.Run(b.Ctx, actions...); err != nil {
		var url string
		_ = chromedp.Run(b.Ctx, chromedp.Location(&url))
		b.Screenshot("failure-" + sanitize(b.t.Name()))
		b.t.Fatalf("browser at %s: %v", url, err)
	}
}

// WaitTrue polls a JavaScript expression until it is truthy, failing the test with the
// expression (and a screenshot) after timeout.
func (b *Browser) WaitTrue(js string, timeout time.Duration) {
	b.t.Helper()
	var ok bool
	if err := chromedp.Run(b.Ctx, chromedp.Poll(js, &ok, chromedp.WithPollingTimeout(timeout))); err != nil {
		var url string
		_ = chromedp.Run(b.Ctx, chromedp.Location(&url))
		b.Screenshot("failure-" + sanitize(b.t.Name()))
		b.t.Fatalf("browser at %s: waiting %s for %s: %v", url, timeout, js, err)
	}
}

// Open navigates to a path of the server and checks the page with axe-core (CheckA11y).
func (b *Browser) Open(path string) {
	b.t.Helper()
	b.Run(chromedp.Navigate(b.Base + path))
	b.CheckA11y(path)
}

// Text returns the text of the first element matching sel.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	var s string
	b.Run(chromedp.WaitVisible(sel, chromedp.ByQuery), chromedp.Text(sel, &s, chromedp.ByQuery))
	return strings.TrimSpace(s)
}

// Fill types into an input after clearing it.
func (b *Browser) Fill(sel, value string) {
	b.t.Helper()
	b.Run(chromedp.WaitVisible(sel, chromedp.ByQuery), chromedp.Clear(sel, chromedp.ByQuery), chromedp.SendKeys(sel, value, chromedp.ByQuery))
}

// Click clicks the first element matching sel.
func (b *Browser) Click(sel string) {
	b.t.Helper()
	b.Run(chromedp.WaitVisible(sel, chromedp.ByQuery), chromedp.Click(sel, chromedp.ByQuery))
}

// WaitVisible waits for sel to be visible.
func (b *Browser) WaitVisible(sel string) {
	b.t.Helper()
	b.Run(chromedp.WaitVisible(sel, chromedp.ByQuery))
}

// Path returns the current URL's path.
func (b *Browser) Path() string {
	b.t.Helper()
	var loc string
	b.Run(chromedp.Location(&loc))
	loc = strings.TrimPrefix(loc, b.Base)
	if i := strings.IndexAny(loc, "?#"); i >= 0 {
		loc = loc[:i]
	}
	return loc
}

// Screenshot saves a full-page PNG as artifacts/screenshots/<name>.png.
func (b *Browser) Screenshot(name string) string {
	var buf []byte
	if err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(&buf, 100)); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	dir := filepath.Join(ArtifactsDir(), "screenshots")
	_ = os.MkdirAll(dir, 0o755)
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
	return p
}

// ArtifactsDir is $ARTIFACTS_DIR or artifacts/ at the module root.
func ArtifactsDir() string {
	if d := os.Getenv("ARTIFACTS_DIR"); d != "" {
		return d
	}
	dir, _ := os.Getwd()
	for d := dir; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "artifacts")
		}
	}
	return filepath.Join(dir, "artifacts")
}

func sanitize(s string) string { return strings.NewReplacer("/", "_", " ", "_").Replace(s) }
