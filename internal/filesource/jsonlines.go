package filesource

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/entrawatch/entrawatch/internal/format"
	"github.com/valyala/fastjson"
)

// splitJSONLines reads a JSON-lines section (an append blob PT1H.json, an
// Event Hubs capture): each non-blank line is a record, checked to be a
// JSON object, or, for a list envelope ({"records":[…]}, {"value":[…]}) or
// an array on one line, its elements are. It has the signature of
// format.Reader.Split; the JSON reader would treat a section that starts
// with a broken line as a multi-line document.
func splitJSONLines(ctx context.Context, _ string, r io.Reader, opts format.Options, emit func(*format.Item) error) error {
	max := opts.MaxRecord
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		line    []byte
		out     []byte
		p       fastjson.Parser
		n, idx  int64
		tooLong bool
		it      format.Item
	)
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > max+2 {
				tooLong, line = true, line[:0]
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("line %d: read error: %w", n+1, err)
		}
		if err == io.EOF && len(line) == 0 && !tooLong {
			return nil
		}
		n++
		if n&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec := bytes.TrimSpace(line)
		long := tooLong
		line, tooLong = line[:0], false
		if len(rec) == 0 && !long {
			if err == io.EOF {
				return nil
			}
			continue
		}
		idx++
		it = format.Item{Line: n, Index: idx, OwnLine: true}
		switch {
		case long:
			it.Err = fmt.Errorf("line too long (over %d bytes), skipped", max)
		case rec[0] != '{' && rec[0] != '[':
			it.Err = errors.New("not a JSON record: a JSON object was expected")
		case mayBeEnvelope(rec):
			v, perr := p.ParseBytes(rec)
			if perr != nil {
				it.Err = invalidJSON(perr)
				break
			}
			if v.Type() == fastjson.TypeArray || isEnvelope(v) {
				if err := emitElements(v, n, &idx, &out, emit); err != nil {
					return err
				}
				idx-- // counted per element
				continue
			}
			it.Data = rec
		default:
			if verr := fastjson.ValidateBytes(rec); verr != nil {
				it.Err = invalidJSON(verr)
			} else {
				it.Data = rec
			}
		}
		if err := emit(&it); err != nil {
			return err
		}
		if err == io.EOF {
			return nil
		}
	}
}

// emitElements emits the elements of an array or list envelope on line n.
func emitElements(v *fastjson.Value, n int64, idx *int64, out *[]byte, emit func(*format.Item) error) error {
	if v.Type() == fastjson.TypeObject {
		o, _ := v.Object()
		o.Visit(func(k []byte, val *fastjson.Value) {
			if val.Type() == fastjson.TypeArray && (string(k) == "value" || string(k) == "records") {
				v = val
			}
		})
	}
	elems, _ := v.Array()
	for _, el := range elems {
		*idx++
		it := format.Item{Line: n, Index: *idx, OwnLine: true}
		if el.Type() != fastjson.TypeObject {
			it.Err = errors.New("not a JSON record: a list element that is not an object")
		} else {
			*out = el.MarshalTo((*out)[:0])
			it.Data = *out
		}
		if err := emit(&it); err != nil {
			return err
		}
	}
	return nil
}

// mayBeEnvelope tells, from its start, whether a line may hold a list
// envelope or an array, which must be parsed to be split.
func mayBeEnvelope(rec []byte) bool {
	if rec[0] == '[' {
		return true
	}
	rest := bytes.TrimLeft(rec[1:], " \t\r\n")
	return bytes.HasPrefix(rest, []byte(`"value"`)) || bytes.HasPrefix(rest, []byte(`"records"`)) || bytes.HasPrefix(rest, []byte(`"@`))
}

func invalidJSON(err error) error {
	s := strings.TrimPrefix(err.Error(), "cannot parse JSON: ")
	if strings.Contains(s, "too big depth") {
		s = fmt.Sprintf("nested deeper than %d levels", fastjson.MaxDepth)
	}
	return errors.New("invalid JSON record: " + s)
}
