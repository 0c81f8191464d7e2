package handlers_test

import (
	"fmt"
	"net/http"
	"testing"
)

// BenchmarkStartGenericAndTyped measures what the gateway spends on a MoneyTransfer start, over a
// fake Temporal, through POST /workflows and through its typed resource, which checks the body's
// envelope and input apart and re-encodes the typed body for its generic twin:
//
//	go test -run '^$' -bench StartGenericAndTyped -benchmem ./internal/handlers/
func BenchmarkStartGenericAndTyped(b *testing.B) {
	const input = `{"fromAccount":"alice","toAccount":"bob","amount":250,"referenceId":"inv-%d"}`
	for _, path := range []struct{ name, target, body string }{
		{"generic", "/workflows", `{"workflowType":"MoneyTransfer","workflowId":"t-%d","input":` + input + `}`},
		{"typed", "/money-transfers", `{"workflowId":"t-%d","input":` + input + `}`},
	} {
		b.Run(path.name, func(b *testing.B) {
			h := newRouter(b, &fakeTemporal{}, withContractTypes(b))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				body := fmt.Sprintf(path.body, i, i)
				rec := serve(h, newRequest(http.MethodPost, path.target, body))
				if rec.Code != http.StatusCreated {
					b.Fatalf("%s: %d %s", path.target, rec.Code, rec.Body)
				}
			}
		})
	}
}
