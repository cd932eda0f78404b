// Package billing is Creditline's domain: accounts and their credit wallets, grants, debits,
// holds, limits, plans, packs, pricing, payments fulfilment and the audit log. It owns every
// rule and every transaction; it imports no web framework, SQL driver or Stripe library, and
// reaches PostgreSQL only through the Store and Tx interfaces it defines (implemented by
// package store).
//
// # Layering
//
// New capabilities that only read (abuse detectors, revenue and margin reports,
// reconciliation, notification delivery) go in packages of their own under billing/ with
// their own small store interfaces, fed by events or rollups, never by reaching into the
// ledger's internals. Money-moving rules (revoke, limits, member limits) stay in the ledger's
// unit of work.
//
// # The cache contract
//
// The debit hot path is lock-free: it decides a batch against accounts and live grants kept
// in memory (ledgerCache) and writes it with one statement that applies only if every
// account row is still at the version it decided against (a trigger bumps accounts.version
// on every update). That is correct only because every change to an account's grants also
// updates its account row in the same transaction, bumping version: a grant, a revoke, an
// expiry, a refund, a hold or a debit that changed the grants but not the account would leave
// another instance deciding on grants that no longer exist.
//
// The ledger's unit of work keeps the contract for you: loadBook locks the accounts and reads
// their live grants, the book's methods (addGrant, draw, touchGrant, entry) mark each account
// whose grants they change as dirty, and book.flush writes the grants together with the new
// state of every dirty account. A new money-moving operation:
//
//  1. runs inside s.store.InTx and starts with loadBook(ctx, tx, s.Now(), accountIDs);
//  2. changes grants only through the book (addGrant, draw, touchGrant; revokes and expiries
//     as revoke.go and sweep do), never with a Tx method of its own;
//  3. writes its ledger entries with b.entry and ends with b.flush(ctx, tx), in the same
//     transaction as its audit entry (s.audit) and any job it enqueues;
//  4. adds a test that it bumps accounts.version: store's TestEveryGrantWriterBumpsVersion
//     fails for any store method writing the grants table, or any billing code calling one,
//     that its tables do not list with such a check.
//
// The cache is bounded (Options.LedgerCacheAccounts) and evicts one least recently used
// account at a time (clockMap). Decisions are per account: a batch's accounts that are not
// cached are read without locks (Store.LedgerAccounts: each account with its grants and rules,
// in one statement; a change after it leaves the row past the version read) and decided like
// cached ones. A request whose account misses every cache has it read beforehand, together
// with the other misses of the moment (coldLoader), so its batch finds it cached; only accounts that cannot be read so, or that have a reservation in the
// batch, take the locked path, beside the lock-free statement of the others (applySplit).
//
// Account settings (status, plan, limits) are cached per instance too (AccountSnapshot). A
// settings change is announced to every instance when it commits (migration 0014,
// store.Listen, ApplyCacheEvent); money decisions are checked again under the account's lock
// or version check, so a notification still in flight never moves money wrongly. When a
// snapshot has expired, routing may use the ledger cache's copy of the account: it is dropped
// by the same notifications, and copies recorded before notifications were lost are not used.
package billing
