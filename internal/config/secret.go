package config

import (
	"fmt"
	"log/slog"
)

// redacted is what every rendering of a Secret prints.
const redacted = "[redacted]"

// Secret is a credential the configuration refers to: an environment
// variable ({env: NAME}) or a file ({file: PATH}). Parse records the
// reference; ResolveSecrets reads the value. Every rendering of a Secret
// (fmt verbs, JSON, text, slog) prints "[redacted]"; only Value returns
// the value.
type Secret struct {
	env, file string
	// binary keeps a file's content as is (a PFX certificate).
	binary    bool
	value     string
	resolved  bool
	line, col int
}

// NewSecret returns a resolved Secret holding value, for configurations
// built in code and for tests.
func NewSecret(value string) Secret { return Secret{value: value, resolved: true} }

// IsSet reports whether the configuration gives the secret.
func (s Secret) IsSet() bool { return s.env != "" || s.file != "" || s.resolved }

// IsZero reports whether the secret is not set, so that JSON's omitzero
// leaves it out.
func (s Secret) IsZero() bool { return !s.IsSet() }

// Env is the environment variable the secret comes from, or "".
func (s Secret) Env() string { return s.env }

// File is the file the secret comes from, or "".
func (s Secret) File() string { return s.file }

// Ref describes where the secret comes from ("environment variable X",
// "file /p"), never its value.
func (s Secret) Ref() string {
	switch {
	case s.env != "":
		return "environment variable " + s.env
	case s.file != "":
		return "file " + s.file
	case s.resolved:
		return "a value set in code"
	}
	return "nothing"
}

// Resolved reports whether the value has been read.
func (s Secret) Resolved() bool { return s.resolved }

// Value returns the secret's value: "" before ResolveSecrets.
func (s Secret) Value() string { return s.value }

// String returns "[redacted]".
func (Secret) String() string { return redacted }

// GoString returns "[redacted]".
func (Secret) GoString() string { return redacted }

// Format prints "[redacted]" for every verb.
func (Secret) Format(f fmt.State, _ rune) { fmt.Fprint(f, redacted) }

// MarshalJSON returns "[redacted]" as a JSON string.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText returns "[redacted]".
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue returns "[redacted]" for log/slog.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
