package store

import (
	"context"
	"os"
	"os/user"
)

type actorKey struct{}

// WithActor returns a context that names who makes the requests sent with
// it ("alice@laptop", "token:ops@controller"). Request records it in the
// EventRequested event, so the log says who paused or rolled back a run.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns the actor WithActor put in ctx or, when none was,
// LocalActor: a request from a terminal is the user at that terminal.
func ActorFrom(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return LocalActor()
}

// LocalActor is the operator of this process as user@host.
func LocalActor() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	} else if v := os.Getenv("USER"); v != "" {
		name = v
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return name + "@" + host
}
