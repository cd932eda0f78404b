package handlers

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// OpenAPIDocument is the API's OpenAPI 3 description; a test keeps it in step with web/routes.go.
//
//go:embed openapi/openapi.json
var OpenAPIDocument []byte

// APIOpenAPI: GET /api/v1/openapi.json (no key needed).
func (h *Handlers) APIOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/json", OpenAPIDocument)
}
