package store_test

import (
	"context"
	"testing"

	"creditline/store"
	"creditline/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestMigrateTwiceIsANoop(t *testing.T) {
	db := pgtest.DB(t)
	applied, err := store.Migrate(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 0 {
		t.Fatalf("template was migrated, yet Migrate applied %v", applied)
	}
	n, err := store.PendingMigrations(context.Background(), db)
	if err != nil || n != 0 {
		t.Fatalf("pending = %d, %v", n, err)
	}
}
