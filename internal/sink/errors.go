package sink

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Error is a failed Send. Its message never holds a secret.
type Error struct {
	// Sink is the sink's name.
	Sink string
	// Status is the receiver's HTTP status (0 when there was none).
	Status int
	// Permanent says retrying cannot help (a 4xx other than 408 and 429,
	// a rejected payload, a redirect).
	Permanent bool
	// RetryAfter is the wait the receiver asked for (0 when none).
	RetryAfter time.Duration
	msg        string
	cause      error // context errors only: they hold no secrets
}

// Error returns the message.
func (e *Error) Error() string {
	s := "sink " + strconv.Quote(e.Sink) + ": " + e.msg
	if e.RetryAfter > 0 {
		s += " (retry after " + e.RetryAfter.String() + ")"
	}
	return s
}

// Unwrap returns context.Canceled or context.DeadlineExceeded when the
// Send was cut short by its context.
func (e *Error) Unwrap() error { return e.cause }

// Permanent marks err as one retrying cannot fix, for sinks outside this
// package.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanent{err}
}

type permanent struct{ error }

func (p *permanent) Unwrap() error { return p.error }

// IsPermanent reports whether err is a failure retrying cannot fix.
func IsPermanent(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Permanent
	}
	var p *permanent
	return errors.As(err, &p)
}

// RetryAfter returns the wait a receiver asked for before the next try.
func RetryAfter(err error) (time.Duration, bool) {
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter, true
	}
	return 0, false
}

// MaxRetryAfter caps the wait a receiver can ask for.
const MaxRetryAfter = time.Hour

// newError builds an Error whose message has every secret replaced.
func newError(sink string, secrets []string, msg string, cause error) *Error {
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "REDACTED")
		}
	}
	e := &Error{Sink: sink, msg: msg}
	switch {
	case errors.Is(cause, context.Canceled):
		e.cause = context.Canceled
	case errors.Is(cause, context.DeadlineExceeded):
		e.cause = context.DeadlineExceeded
	}
	return e
}
