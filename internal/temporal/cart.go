package temporal

import (
	"fmt"
	"math"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/temporalhttp/gateway/internal/model"
)

// The sample that docs/workflow-types.md adds by its own recipe: its schemas and typed
// operations are in api/openapi.yaml, its Go types generated into internal/model, its code here.

// Names under which the Cart workflow takes items, answers its contents and is checked out.
const (
	CartAddItemUpdate  = "addItem"
	CartContentsQuery  = "contents"
	CartCheckoutSignal = "checkout"
)

// The bounds of a cart's item, as the contract's CartItem says them.
const (
	MaxCartQuantity   = 1_000_000
	MaxCartPriceCents = 1_000_000_000
)

// DefaultCartTimeout is how long a cart waits for its checkout when the input gives no timeout.
const DefaultCartTimeout = 24 * time.Hour

// ErrTypeCartAbandoned: no checkout came before the cart's timeout.
const ErrTypeCartAbandoned = string(model.CartFailureTypeCartAbandonedError)

// The Cart's input, result, and the payloads of its signal, query and update: the contract's
// schemas (internal/model).
type (
	CartInput    = model.CartInput
	CartItem     = model.CartItem
	CartContents = model.CartContents
	CartCheckout = model.CartCheckout
	CartReceipt  = model.CartReceipt
)

// Cart takes items by its addItem update until a checkout signal, and returns its receipt. The
// contents query reads it at any time. A cart not checked out within its timeout fails with
// CartAbandonedError. An item added after the checkout is refused by the update's validator.
func Cart(ctx workflow.Context, in CartInput) (CartReceipt, error) {
	timeout, err := timeoutOf(in.TimeoutSeconds, DefaultCartTimeout)
	if err != nil {
		return CartReceipt{}, err
	}

	contents := CartContents{Items: []CartItem{}}
	var checkout *CartCheckout
	if err := workflow.SetQueryHandler(ctx, CartContentsQuery, func() (CartContents, error) {
		return contents, nil
	}); err != nil {
		return CartReceipt{}, err
	}
	// admit refuses an item that the cart cannot take. The gateway's typed operation holds an
	// item to the contract's bounds, but a generic update or another client reaches the workflow
	// unchecked, and the total must never overflow.
	admit := func(item CartItem) error {
		switch {
		case checkout != nil:
			return fmt.Errorf("the cart is checked out")
		case item.Sku == "" || item.Quantity < 1 || item.Quantity > MaxCartQuantity ||
			item.PriceCents < 0 || item.PriceCents > MaxCartPriceCents:
			return fmt.Errorf("an item needs a sku, a quantity from 1 to %d and a price from 0 to %d cents",
				MaxCartQuantity, MaxCartPriceCents)
		}
		_, err := totalWith(contents.TotalCents, item)
		return err
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, CartAddItemUpdate,
		func(_ workflow.Context, item CartItem) (CartContents, error) {
			// Admitted again rather than trusting the validator, which the SDK skips on replay.
			if err := admit(item); err != nil {
				return CartContents{}, err
			}
			contents.Items = append(contents.Items, item)
			contents.TotalCents, _ = totalWith(contents.TotalCents, item) // admitted: it fits
			return contents, nil
		},
		// Refusing in the validator keeps a refused item out of the history.
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, item CartItem) error { return admit(item) }})
	if err != nil {
		return CartReceipt{}, err
	}

	checkouts := workflow.GetSignalChannel(ctx, CartCheckoutSignal)
	logger := workflow.GetLogger(ctx)
	ok, err := workflow.AwaitWithTimeout(ctx, timeout, func() bool {
		var c CartCheckout
		for checkout == nil && checkouts.ReceiveAsync(&c) {
			if c.PaymentReference == "" {
				// The typed operation refuses it; a signal from elsewhere cannot be refused.
				logger.Warn("Checkout ignored: it names no payment", "CustomerID", in.CustomerID)
				continue
			}
			checkout = &c
		}
		return checkout != nil
	})
	if err != nil {
		return CartReceipt{}, err
	}
	if !ok {
		return CartReceipt{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("no checkout in %s", timeout), ErrTypeCartAbandoned, nil)
	}
	// An addItem still running would be cut off by the return.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return CartReceipt{}, err
	}
	var late CartCheckout
	for checkouts.ReceiveAsync(&late) { // later checkouts change nothing
	}
	return CartReceipt{Items: contents.Items, TotalCents: contents.TotalCents, PaymentReference: checkout.PaymentReference}, nil
}

// totalWith is total with item's line added, or an error when that would overflow an int64. An
// item within the bounds (MaxCartQuantity, MaxCartPriceCents) has a line that fits.
func totalWith(total int64, item CartItem) (int64, error) {
	line := item.Quantity * item.PriceCents
	if total > math.MaxInt64-line {
		return total, fmt.Errorf("the cart's total would exceed %d cents", int64(math.MaxInt64))
	}
	return total + line, nil
}
