package pages

import "creditline/views/layouts"

// Short aliases keep the page files readable.
var (
	layoutsAuth = layouts.Auth
	layoutsApp  = layouts.App
)
