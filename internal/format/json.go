package format

import (
	"context"
	"errors"
	"io"

	"github.com/entrawatch/entrawatch/internal/jsonstream"
)

// JSON reads every JSON layout of Entra logs: Graph list responses, bare
// arrays, JSON lines, diagnostic-settings {"records":[…]} envelopes, Log
// Analytics exports and portal JSON downloads.
type JSON struct{}

func init() { Register(JSON{}) }

// Name implements Reader.
func (JSON) Name() string { return "json" }

// Sniff implements Reader.
func (JSON) Sniff(_ string, head []byte) int {
	for _, c := range head {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			return 50
		}
		return 0
	}
	if len(head) > 0 {
		// Blank so far (an empty export saved with a line break): read it
		// as JSON, which finds no record in blank lines and reports
		// whatever follows them.
		return 1
	}
	return 0
}

// Split implements Reader.
func (JSON) Split(ctx context.Context, _ string, r io.Reader, opts Options, emit func(*Item) error) error {
	s := jsonstream.New(r, opts.MaxRecord)
	var it Item
	for n := 0; ; n++ {
		if n&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		x, ok := s.Next()
		if !ok {
			return nil
		}
		var re *jsonstream.ReadError
		if errors.As(x.Err, &re) {
			return re
		}
		it = Item{Data: x.Data, Line: x.Line, Index: x.Index, OwnLine: x.OwnLine, Err: x.Err}
		if err := emit(&it); err != nil {
			return err
		}
	}
}

var _ Reader = JSON{}
