package billing

import (
	"testing"
	"time"
)

// A batch that read an account before a change announced by notification may finish after
// it: its older state must not be cached again, under the id or the external ref.
func TestForgottenAccountIsNotCachedOlder(t *testing.T) {
	s := &Service{}
	ext := "cust-1"
	old := Account{ID: "acc_1", ExternalID: &ext, Version: 5, Status: StatusActive}
	s.snapshotsOf([]Account{old})
	s.ForgetAccount("acc_1", 7)
	s.snapshotsOf([]Account{old})
	s.snapshot("external:cust-1", old)
	live := func(ref string) (Account, bool) {
		if s.accounts.m == nil {
			return Account{}, false
		}
		ca, ok := s.accounts.m.peek(ref)
		if !ok {
			return Account{}, false
		}
		return ca.acc, time.Now().Before(ca.at)
	}
	for _, ref := range []string{"acc_1", "external:cust-1"} {
		if a, ok := live(ref); ok {
			t.Fatalf("%s: version %d cached again after the change at version 7", ref, a.Version)
		}
	}
	fresh := old
	fresh.Version, fresh.Status = 7, StatusSuspended
	s.snapshot("external:cust-1", fresh)
	for _, ref := range []string{"acc_1", "external:cust-1"} {
		if a, ok := live(ref); !ok || a.Status != StatusSuspended {
			t.Fatalf("%s: the state read after the change is not cached (%+v, %v)", ref, a, ok)
		}
	}
	s.ForgetAccounts()
	if _, ok := live("acc_1"); ok {
		t.Fatal("ForgetAccounts kept a snapshot")
	}
}
