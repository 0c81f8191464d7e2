package temporal

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
)

func addItem(id string, item CartItem, o *updateOutcome) func(*testsuite.TestWorkflowEnvironment) {
	return func(env *testsuite.TestWorkflowEnvironment) {
		env.UpdateWorkflow("addItem", id, o.callbacks(), item)
	}
}

func TestCartTakesItemsUntilCheckout(t *testing.T) {
	env, _ := newEnv(t)
	var first, second updateOutcome
	var contents CartContents
	env.RegisterDelayedCallback(func() { addItem("1", CartItem{Sku: "A-1", Quantity: 2, PriceCents: 1250}, &first)(env) }, time.Minute)
	env.RegisterDelayedCallback(func() { addItem("2", CartItem{Sku: "B-2", Quantity: 1, PriceCents: 99}, &second)(env) }, 2*time.Minute)
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow("contents")
		require.NoError(t, err)
		require.NoError(t, v.Get(&contents))
	}, 3*time.Minute)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow("checkout", CartCheckout{PaymentReference: "pay-1"}) }, 4*time.Minute)
	env.ExecuteWorkflow("Cart", CartInput{CustomerID: "c-42"})

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var got CartReceipt
	require.NoError(t, env.GetWorkflowResult(&got))
	want := []CartItem{{Sku: "A-1", Quantity: 2, PriceCents: 1250}, {Sku: "B-2", Quantity: 1, PriceCents: 99}}
	assert.Equal(t, CartReceipt{Items: want, TotalCents: 2599, PaymentReference: "pay-1"}, got)
	assert.Equal(t, CartContents{Items: want, TotalCents: 2599}, contents, "the query reads the cart")
	assert.Equal(t, CartContents{Items: want[:1], TotalCents: 2500}, first.result, "each update answers the contents")
	assert.Equal(t, int64(2599), second.result.(CartContents).TotalCents)
}

func TestCartAbandoned(t *testing.T) {
	env, _ := newEnv(t)
	start := env.Now()
	env.ExecuteWorkflow("Cart", CartInput{TimeoutSeconds: 60})
	require.True(t, env.IsWorkflowCompleted())
	requireAppError(t, env.GetWorkflowError(), ErrTypeCartAbandoned)
	assert.Equal(t, time.Minute, env.Now().Sub(start))
}

func TestCartRefusesABadItemInItsValidator(t *testing.T) {
	env, _ := newEnv(t)
	var bad updateOutcome
	env.RegisterDelayedCallback(func() { addItem("1", CartItem{Sku: "A-1", Quantity: 0}, &bad)(env) }, time.Minute)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow("checkout", CartCheckout{PaymentReference: "pay-1"}) }, 2*time.Minute)
	env.ExecuteWorkflow("Cart", CartInput{})
	require.NoError(t, env.GetWorkflowError())
	assert.Error(t, bad.rejectErr)
	var got CartReceipt
	require.NoError(t, env.GetWorkflowResult(&got))
	assert.Empty(t, got.Items)
	assert.Zero(t, got.TotalCents)
}

func TestCartRefusesWhatWouldOverflowOrBreakItsBounds(t *testing.T) {
	env, _ := newEnv(t)
	outcomes := make([]updateOutcome, 4)
	items := []CartItem{
		{Sku: "A", Quantity: MaxCartQuantity + 1, PriceCents: 1},
		{Sku: "A", Quantity: 1, PriceCents: MaxCartPriceCents + 1},
		{Sku: "A", Quantity: MaxCartQuantity, PriceCents: MaxCartPriceCents},
		{Sku: "B", Quantity: 1, PriceCents: 1},
	}
	for i, item := range items {
		env.RegisterDelayedCallback(func() { addItem(string(rune('a'+i)), item, &outcomes[i])(env) }, time.Duration(i+1)*time.Minute)
	}
	env.RegisterDelayedCallback(func() { env.SignalWorkflow("checkout", CartCheckout{}) }, 10*time.Minute)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow("checkout", CartCheckout{PaymentReference: "pay-1"}) }, 11*time.Minute)
	env.ExecuteWorkflow("Cart", CartInput{})
	require.NoError(t, env.GetWorkflowError())
	assert.Error(t, outcomes[0].rejectErr, "a quantity beyond the bound")
	assert.Error(t, outcomes[1].rejectErr, "a price beyond the bound")
	assert.NoError(t, outcomes[2].rejectErr)
	assert.NoError(t, outcomes[3].rejectErr)
	var got CartReceipt
	require.NoError(t, env.GetWorkflowResult(&got))
	assert.Equal(t, int64(MaxCartQuantity)*MaxCartPriceCents+1, got.TotalCents)
	assert.Equal(t, "pay-1", got.PaymentReference, "a checkout without a payment is ignored")
}

func TestCartTotalNeverOverflows(t *testing.T) {
	biggest := CartItem{Sku: "A", Quantity: MaxCartQuantity, PriceCents: MaxCartPriceCents}
	got, err := totalWith(0, biggest)
	require.NoError(t, err)
	assert.Equal(t, int64(MaxCartQuantity)*MaxCartPriceCents, got)
	_, err = totalWith(math.MaxInt64-got+1, biggest)
	assert.Error(t, err, "one cent beyond what an int64 holds")
	got, err = totalWith(math.MaxInt64-got, biggest)
	require.NoError(t, err)
	assert.Equal(t, int64(math.MaxInt64), got)
}
