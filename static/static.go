// Package static embeds the built stylesheet and vendored scripts and serves them under
// fingerprinted URLs, so browsers may cache them forever.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path"
	"strings"
)

//go:embed app.css htmx-2.0.11.min.js app.js
var files embed.FS

type asset struct {
	name string
	body []byte
	mime string
}

var (
	byURL  = map[string]asset{}
	urlFor = map[string]string{}
)

func init() {
	names, _ := fs.Glob(files, "*")
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			continue
		}
		sum := sha256.Sum256(b)
		ext := path.Ext(n)
		u := "/static/" + strings.TrimSuffix(n, ext) + "." + hex.EncodeToString(sum[:])[:10] + ext
		mime := "application/octet-stream"
		switch ext {
		case ".css":
			mime = "text/css; charset=utf-8"
		case ".js":
			mime = "text/javascript; charset=utf-8"
		}
		byURL[u] = asset{name: n, body: b, mime: mime}
		urlFor[n] = u
	}
}

// URL is the fingerprinted URL of an embedded file, e.g. URL("app.css").
func URL(name string) string {
	if u, ok := urlFor[name]; ok {
		return u
	}
	return "/static/" + name
}

// Lookup returns the body and content type of a fingerprinted URL.
func Lookup(urlPath string) ([]byte, string, bool) {
	a, ok := byURL[urlPath]
	return a.body, a.mime, ok
}
