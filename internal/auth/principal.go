package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Scope is a permission a credential carries. The spec names the scope each operation needs
// (x-required-scope).
type Scope string

// The scopes. Admin allows everything; read, start and schedule allow only their own
// operations, so a key that starts workflows cannot also read every execution unless it is given
// read too. Schedule is its own scope because a schedule keeps starting workflows long after the
// request that made it: a key that may start one workflow now should not by that alone be able
// to start one every second for good.
const (
	ScopeRead     Scope = "read"
	ScopeStart    Scope = "start"
	ScopeSchedule Scope = "schedule"
	ScopeAdmin    Scope = "admin"
)

// ParseScope accepts a scope's name.
func ParseScope(s string) (Scope, bool) {
	switch sc := Scope(s); sc {
	case ScopeRead, ScopeStart, ScopeSchedule, ScopeAdmin:
		return sc, true
	}
	return "", false
}

// ParseScopes reads scopes joined by "+", such as "read+start"; there must be at least one.
func ParseScopes(s string) ([]Scope, error) {
	var scopes []Scope
	for name := range strings.SplitSeq(s, "+") {
		sc, ok := ParseScope(strings.TrimSpace(name))
		if !ok {
			return nil, fmt.Errorf("unknown scope %q (want read, start, schedule or admin, joined by +)", name)
		}
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	return scopes, nil
}

// FormatScopes joins scopes the way ParseScopes reads them.
func FormatScopes(scopes []Scope) string {
	names := make([]string, len(scopes))
	for i, s := range scopes {
		names[i] = string(s)
	}
	return strings.Join(names, "+")
}

// Principal is who sent a request, as its credential says.
type Principal struct {
	// Name identifies the caller, in logs and as the scope of its Idempotency-Keys and waits:
	// "apikey:<name>", "jwt:<subject>" or, for a token without a subject, "jwt-client:<client id>".
	// The prefixes keep a key, a token's user and a token's client of the same name apart.
	Name   string
	Scopes []Scope
}

// Allows reports whether the principal may use an operation that needs scope.
func (p Principal) Allows(scope Scope) bool {
	return slices.Contains(p.Scopes, ScopeAdmin) || slices.Contains(p.Scopes, scope)
}

type principalKey struct{}

// NewContext returns ctx carrying the request's principal.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the request's principal; false when the request was not authenticated
// (the gateway runs open, or the operation is public).
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
