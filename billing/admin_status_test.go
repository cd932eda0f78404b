package billing

import "testing"

func TestSuspendedErrorCarriesTheReason(t *testing.T) {
	err := SuspendedError(Account{Status: StatusSuspended, StatusReason: "chargebacks under review"})
	e, ok := err.(*Error)
	if !ok || e.Code != EAccountSuspended || e.Message != "This account is suspended: chargebacks under review. Usage is refused; contact support." || e.Details["reason"] != "chargebacks under review" {
		t.Fatalf("%#v", err)
	}
	if e := SuspendedError(Account{Status: StatusSuspended}).(*Error); e.Message != "This account is suspended; usage is refused. Contact support." {
		t.Fatalf("without a reason: %q", e.Message)
	}
}
