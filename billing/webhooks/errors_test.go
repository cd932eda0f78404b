package webhooks_test

import (
	"errors"

	"creditline/billing"
)

func asBilling(err error, target **billing.Error) bool { return errors.As(err, target) }
