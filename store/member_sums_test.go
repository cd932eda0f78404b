package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"creditline/store"
	"creditline/store/pgtest"
)

// The sums a member-limited decision or UpdateMember runs under the account's lock read only
// the member's rows of the period (or their active holds) through an index whose condition
// bounds them, never the member's whole history filtered row by row.
func TestMemberSumsUseTheirIndexes(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	since := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name, query, index, bound string
		args                      []any
	}{
		{"usage since", store.MemberUsageSinceSQL, "usage_account_member_created_idx", "created_at", []any{"acc_x", "mem_x", since}},
		{"team member", store.MemberSelectSQL + ` WHERE m.account_id = $1 AND m.id = $3`, "usage_account_member_created_idx", "created_at",
			[]any{"acc_x", since, "mem_x"}},
		{"member spends", store.MemberSpendsSQL, "holds_member_active_idx", "member_id", []any{"acc_x", store.TextArray([]string{"mem_x"})}},
	}
	for _, c := range cases {
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`SET LOCAL enable_seqscan = off`); err != nil {
			t.Fatal(err)
		}
		var plan string
		err = tx.Get(&plan, `EXPLAIN (FORMAT JSON) `+c.query, c.args...)
		_ = tx.Rollback()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		at := strings.Index(plan, `"Index Name": "`+c.index+`"`)
		if at < 0 {
			t.Errorf("%s: the plan does not use %s:\n%s", c.name, c.index, plan)
			continue
		}
		// The node's own condition (its fields up to the next node) bounds the rows it reads.
		node := plan[at:]
		if end := strings.Index(node, `"Plans"`); end > 0 {
			node = node[:end]
		}
		if !strings.Contains(node, `"Index Cond"`) || !strings.Contains(node[strings.Index(node, `"Index Cond"`):], c.bound) {
			t.Errorf("%s: %s is not bounded by %s:\n%s", c.name, c.index, c.bound, plan)
		}
	}
}
