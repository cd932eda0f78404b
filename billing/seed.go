package billing

import "context"

// DemoLogin is a demo user's credentials, printed by `portal dev`.
type DemoLogin struct {
	Role, Email, Password string
}

// DemoLogins are the demo users of SPEC section 10.
var DemoLogins = []DemoLogin{
	{"customer", "demo@creditline.test", "demo-password"},
	{"customer", "nova@creditline.test", "demo-password"},
	{"admin", "admin@creditline.test", "admin-password"},
}

// SeedDemo creates the demo users and their 30 days of usage once; running it again changes nothing.
func (s *Service) SeedDemo(ctx context.Context) ([]DemoLogin, error) {
	if err := s.SeedCatalog(ctx); err != nil {
		return nil, err
	}
	names := map[string]string{"demo@creditline.test": "Demo Customer", "nova@creditline.test": "Nova Labs"}
	for _, l := range DemoLogins {
		_, err := s.store.UserByEmail(ctx, l.Email)
		if err == nil {
			continue
		}
		if ErrorCode(err) != ENotFound {
			return nil, err
		}
		if l.Role == "admin" {
			if _, err := s.EnsureAdmin(ctx, l.Email, l.Password); err != nil {
				return nil, err
			}
			continue
		}
		if _, _, err := s.SignUp(ctx, SignUpInput{Name: names[l.Email], Email: l.Email, Password: l.Password}); err != nil {
			return nil, err
		}
	}
	if err := s.seedDemoHistory(ctx); err != nil { // past months for the revenue report
		return nil, err
	}
	if err := s.seedDemoUsage(ctx); err != nil {
		return nil, err
	}
	return DemoLogins, nil
}
