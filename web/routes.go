package web

import (
	"creditline/handlers"
	"github.com/labstack/echo/v4"
)

// routes is the map of the whole HTTP surface: every route, one line each.
func routes(e *echo.Echo, h *handlers.Handlers, m *Metrics) {
	// Operations.
	e.GET("/healthz", h.Healthz)
	e.GET("/readyz", h.Readyz)
	e.GET("/metrics", m.Handler)
	e.GET("/static/*", serveStatic)

	// JSON API v1: bearer keys; SPEC section 4. The OpenAPI document lists exactly these routes.
	e.GET("/api/v1/openapi.json", h.APIOpenAPI)
	api := e.Group("/api/v1", h.APIAuth)
	api.POST("/accounts", h.APICreateAccount)
	api.GET("/accounts/:id", h.APIGetAccount)
	api.GET("/accounts/:id/balance", h.APIBalance)
	api.POST("/accounts/:id/grants", h.APIGrant)
	api.GET("/accounts/:id/ledger", h.APILedger)
	api.POST("/accounts/:id/api-keys", h.APICreateAccountKey)
	api.GET("/accounts/:id/entitlements", h.APIEntitlements)
	api.GET("/accounts/:id/usage", h.APIListUsage)
	api.GET("/actions", h.APIActions)
	api.POST("/estimate", h.APIEstimate)
	api.POST("/usage", h.APIUsage)
	api.POST("/usage/batch", h.APIUsageBatch)
	api.POST("/reservations", h.APIReserve)
	api.POST("/reservations/:id/commit", h.APICommit)
	api.POST("/reservations/:id/release", h.APIRelease)
	api.PATCH("/accounts/:id", h.APIUpdateAccount)
	api.POST("/accounts/:id/grants/:grant_id/revoke", h.APIRevokeGrant)
	api.GET("/audit-log", h.APIAuditLog)

	// Stripe webhooks: authenticated by their signature, no session or CSRF.
	e.POST("/webhooks/stripe", h.StripeWebhook)

	// Browser pages: session + CSRF on every form.
	b := e.Group("", h.LoadSession, h.CSRF)
	b.GET("/login", h.ShowLogin)
	b.POST("/login", h.Login)
	b.GET("/signup", h.ShowSignup)
	b.POST("/signup", h.Signup)
	b.GET("/signup/confirm", h.ShowConfirmSignup)
	b.POST("/signup/confirm", h.ConfirmSignup)
	b.POST("/logout", h.Logout)

	// Customer pages: a signed-in user.
	u := b.Group("", h.RequireUser)
	u.GET("/", h.Overview)
	u.GET("/prices", h.Prices)
	u.GET("/prices/estimator", h.PricesEstimator)
	u.GET("/prices/estimate", h.PricesEstimate)
	u.GET("/usage", h.Usage)
	u.GET("/usage/more", h.UsageMore)
	u.GET("/usage.csv", h.UsageCSV)
	u.GET("/usage/:id", h.UsageEvent)
	u.GET("/api-keys", h.APIKeys)
	u.POST("/api-keys", h.CreateAPIKey)
	u.POST("/api-keys/:id/revoke", h.RevokeAPIKey)
	u.GET("/billing", h.ShowBilling)
	u.POST("/billing/checkout", h.StartCheckout)
	u.POST("/billing/portal", h.Portal)
	u.GET("/billing/portal", h.Portal) // dunning mail links here: through sign-in to a fresh portal session
	u.POST("/billing/auto-recharge", h.SaveAutoRecharge)
	u.GET("/billing/receipts/:id", h.Receipt)
	u.GET("/billing/recharges/:id", h.ShowRecharge)
	u.POST("/billing/recharges/:id", h.FinishRecharge)
	u.POST("/billing/test/subscription", h.TestSubscription)
	u.GET("/checkout/test/:id", h.ShowTestCheckout)
	u.POST("/checkout/test/:id", h.PayTestCheckout)
	u.GET("/account/password", h.ShowChangePassword)
	u.POST("/account/password", h.ChangePassword)

	// Admin console: platform admins only.
	a := b.Group("/admin", h.RequireAdmin)
	a.GET("", h.AdminOverview)
	a.GET("/customers", h.AdminCustomers)
	a.GET("/customers/:id", h.AdminCustomer)
	a.GET("/customers/:id/ledger", h.AdminCustomerLedger)
	a.GET("/customers/:id/usage", h.AdminCustomerUsage)
	a.POST("/customers/:id/grant", h.AdminGrant)
	a.POST("/customers/:id/revoke", h.AdminRevoke)
	a.POST("/customers/:id/plan", h.AdminSetPlan)
	a.POST("/customers/:id/overdraft", h.AdminSetOverdraft)
	a.POST("/customers/:id/spend-limit", h.AdminSetSpendLimit)
	a.POST("/customers/:id/status", h.AdminSetStatus)
	a.POST("/customers/:id/settle", h.AdminSettleDebt)
	a.GET("/audit", h.AdminAudit)
	a.GET("/pricing", h.AdminSoon)
	a.GET("/plans", h.AdminSoon)
	a.GET("/abuse", h.AdminSoon)
	a.GET("/revenue", h.AdminSoon)
	a.GET("/reconciliation", h.AdminSoon)
	a.GET("/api-keys", h.AdminAPIKeys)
	a.POST("/api-keys", h.AdminCreateAPIKey)
	a.POST("/api-keys/:id/revoke", h.AdminRevokeAPIKey)
	a.GET("/jobs", h.AdminJobs)
	a.POST("/jobs/:id/retry", h.AdminRetryJob)
	a.POST("/jobs/:id/cancel", h.AdminCancelJob)
	a.GET("/outbox", h.AdminOutbox)
}
