package billing

import (
	"bytes"
	"html/template"
	"strings"
)

// mailContent is one message's content, from which both its plain-text and its HTML bodies are
// written, so the two always say the same thing (the figures, the links).
type mailContent struct {
	Greeting string
	Paras    []string
	Figures  []mailFigure
	Actions  []mailLink // the first is the main one (a button in HTML)
	Notes    []string   // after the actions
	// Unsubscribe is the per-rule link of alert mail; empty for the others.
	Unsubscribe string
}

// mailFigure is one labelled figure ("Available balance", "12.5 credits").
type mailFigure struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// mailLink is a link to act on. URL is absolute when the portal's BASE_URL is known.
type mailLink struct {
	Text string
	URL  string
}

// text is the plain-text body: paragraphs, figures one a line, then "Text: URL" lines.
func (c mailContent) text() string {
	var b strings.Builder
	if c.Greeting != "" {
		b.WriteString(c.Greeting + "\n\n")
	}
	for _, p := range c.Paras {
		b.WriteString(p + "\n\n")
	}
	if len(c.Figures) > 0 {
		for _, f := range c.Figures {
			b.WriteString(f.Label + ": " + f.Value + "\n")
		}
		b.WriteString("\n")
	}
	for _, a := range c.Actions {
		b.WriteString(a.Text + ": " + a.URL + "\n")
	}
	for i, n := range c.Notes {
		if i == 0 && len(c.Actions) > 0 {
			b.WriteString("\n")
		}
		b.WriteString(n + "\n")
	}
	if c.Unsubscribe != "" {
		b.WriteString("\nYou get this because of an alert rule on your account. Stop these emails for this rule: " + c.Unsubscribe + "\n")
	}
	return b.String()
}

// mailHTML lays out the HTML body. html/template escapes every value (customer-influenced text
// such as names included) and refuses any URL scheme but http(s) and mailto in href. Inline
// styles only: mail clients drop style sheets.
var mailHTML = template.Must(template.New("mail").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Subject}}</title></head>
<body style="margin:0;padding:0;background:#f1f5f9;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#0f172a">
<div style="max-width:560px;margin:0 auto;padding:24px 16px">
<p style="margin:0 0 16px;font-size:14px;font-weight:600;color:#4338ca">Creditline</p>
<div style="background:#ffffff;border:1px solid #e2e8f0;border-radius:8px;padding:24px">
<h1 style="margin:0 0 16px;font-size:20px;line-height:1.3">{{.Subject}}</h1>
{{with .C.Greeting}}<p style="margin:0 0 12px;font-size:15px;line-height:1.5">{{.}}</p>{{end}}
{{range .C.Paras}}<p style="margin:0 0 12px;font-size:15px;line-height:1.5">{{.}}</p>
{{end}}{{if .C.Figures}}<table role="presentation" style="width:100%;border-collapse:collapse;margin:8px 0 16px;font-size:15px">
{{range .C.Figures}}<tr><th scope="row" style="text-align:left;font-weight:normal;color:#475569;padding:6px 8px 6px 0;border-bottom:1px solid #e2e8f0">{{.Label}}</th><td style="text-align:right;font-weight:600;padding:6px 0;border-bottom:1px solid #e2e8f0">{{.Value}}</td></tr>
{{end}}</table>
{{end}}{{range $i, $a := .C.Actions}}{{if eq $i 0}}<p style="margin:20px 0"><a href="{{$a.URL}}" style="display:inline-block;background:#4338ca;color:#ffffff;text-decoration:none;font-weight:600;padding:10px 18px;border-radius:6px">{{$a.Text}}</a></p>
{{else}}<p style="margin:0 0 8px;font-size:14px"><a href="{{$a.URL}}" style="color:#4338ca">{{$a.Text}}</a></p>
{{end}}{{end}}{{range .C.Notes}}<p style="margin:12px 0 0;font-size:14px;line-height:1.5;color:#475569">{{.}}</p>
{{end}}</div>
{{with .C.Unsubscribe}}<p style="margin:16px 0 0;font-size:12px;line-height:1.5;color:#64748b">You get this because of an alert rule on your account. <a href="{{.}}" style="color:#475569">Stop these emails for this rule</a>.</p>
{{end}}</div>
</body></html>
`))

// html is the HTML body. The template is fixed and its data are strings, so it cannot fail.
func (c mailContent) html(subject string) string {
	var b bytes.Buffer
	if err := mailHTML.Execute(&b, struct {
		Subject string
		C       mailContent
	}{subject, c}); err != nil {
		panic("billing: mail template: " + err.Error())
	}
	return b.String()
}

// mail is the outbox row of the content: kind, subject and both bodies.
func (c mailContent) mail(kind, to, subject string) Mail {
	return Mail{Kind: kind, To: to, Subject: subject, Body: c.text(), HTML: c.html(subject)}
}
