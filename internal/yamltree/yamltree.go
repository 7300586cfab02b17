// Package yamltree reads YAML into a small tree that keeps every node's
// line and column, so that rule loaders can report each problem where it
// stands. It wraps goccy/go-yaml's parser, resolves anchors and aliases
// with a bound on expansion, and keeps mapping keys in document order.
package yamltree

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Kind is a node's kind.
type Kind uint8

// Node kinds.
const (
	Null Kind = iota
	Scalar
	Map
	Seq
)

// ScalarType is the YAML type of a scalar.
type ScalarType uint8

// Scalar types.
const (
	String ScalarType = iota
	Int
	Float
	Bool
)

// Node is one YAML node.
type Node struct {
	Kind Kind
	Type ScalarType // for scalars
	// Str is a scalar's text (for strings, the unquoted value).
	Str string
	// Keys and Values are a mapping's entries in document order.
	Keys   []*Node
	Values []*Node
	// Items are a sequence's elements.
	Items     []*Node
	Line, Col int
}

// Get returns the value of key in a mapping, or nil.
func (n *Node) Get(key string) *Node {
	if n == nil || n.Kind != Map {
		return nil
	}
	for i, k := range n.Keys {
		if k.Str == key {
			return n.Values[i]
		}
	}
	return nil
}

// Pos formats the node's position as "line:col".
func (n *Node) Pos() string {
	if n == nil {
		return "?"
	}
	return fmt.Sprintf("%d:%d", n.Line, n.Col)
}

// Describe names a node's kind for messages.
func (n *Node) Describe() string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case Null:
		return "null"
	case Map:
		return "a mapping"
	case Seq:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Str)
}

// Error is a problem at a position.
type Error struct {
	Line, Col int
	Msg       string
}

func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// maxNodes bounds alias expansion ("billion laughs").
const maxNodes = 200000

// Parse reads every document of a YAML stream.
func Parse(src []byte) ([]*Node, error) {
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil, syntaxError(err)
	}
	c := &converter{anchors: map[string]ast.Node{}}
	var docs []*Node
	for _, d := range f.Docs {
		if d == nil || d.Body == nil {
			continue
		}
		n, err := c.convert(d.Body, 0)
		if err != nil {
			return nil, err
		}
		docs = append(docs, n)
	}
	return docs, nil
}

// syntaxError turns the parser's message into "line:col: reason".
func syntaxError(err error) error {
	msg := err.Error()
	// goccy formats "[3:5] reason\n   source excerpt".
	if strings.HasPrefix(msg, "[") {
		if end := strings.IndexByte(msg, ']'); end > 0 {
			var line, col int
			if _, e := fmt.Sscanf(msg[1:end], "%d:%d", &line, &col); e == nil {
				reason := strings.TrimSpace(msg[end+1:])
				if i := strings.IndexByte(reason, '\n'); i >= 0 {
					reason = reason[:i]
				}
				return &Error{Line: line, Col: col, Msg: "YAML syntax: " + reason}
			}
		}
	}
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return &Error{Line: 1, Col: 1, Msg: "YAML syntax: " + msg}
}

type converter struct {
	anchors map[string]ast.Node
	count   int
}

func pos(n ast.Node) (int, int) {
	if t := n.GetToken(); t != nil && t.Position != nil {
		return t.Position.Line, t.Position.Column
	}
	return 0, 0
}

func (c *converter) convert(n ast.Node, depth int) (*Node, error) {
	c.count++
	line, col := pos(n)
	if c.count > maxNodes {
		return nil, &Error{Line: line, Col: col, Msg: fmt.Sprintf("document too large (over %d nodes after alias expansion)", maxNodes)}
	}
	if depth > 200 {
		return nil, &Error{Line: line, Col: col, Msg: "nesting too deep"}
	}
	switch v := n.(type) {
	case *ast.NullNode:
		return &Node{Kind: Null, Line: line, Col: col}, nil
	case *ast.StringNode:
		return &Node{Kind: Scalar, Type: String, Str: v.Value, Line: line, Col: col}, nil
	case *ast.LiteralNode:
		s := ""
		if v.Value != nil {
			s = v.Value.Value
		}
		return &Node{Kind: Scalar, Type: String, Str: s, Line: line, Col: col}, nil
	case *ast.IntegerNode:
		return &Node{Kind: Scalar, Type: Int, Str: tokenValue(n, fmt.Sprint(v.Value)), Line: line, Col: col}, nil
	case *ast.FloatNode:
		return &Node{Kind: Scalar, Type: Float, Str: tokenValue(n, strconv.FormatFloat(v.Value, 'g', -1, 64)), Line: line, Col: col}, nil
	case *ast.BoolNode:
		return &Node{Kind: Scalar, Type: Bool, Str: strconv.FormatBool(v.Value), Line: line, Col: col}, nil
	case *ast.InfinityNode, *ast.NanNode:
		return &Node{Kind: Scalar, Type: String, Str: tokenValue(n, ""), Line: line, Col: col}, nil
	case *ast.MappingNode:
		out := &Node{Kind: Map, Line: line, Col: col}
		for _, mv := range v.Values {
			if err := c.addEntry(out, mv, depth); err != nil {
				return nil, err
			}
		}
		return out, nil
	case *ast.MappingValueNode:
		out := &Node{Kind: Map, Line: line, Col: col}
		if err := c.addEntry(out, v, depth); err != nil {
			return nil, err
		}
		return out, nil
	case *ast.SequenceNode:
		out := &Node{Kind: Seq, Line: line, Col: col}
		for _, it := range v.Values {
			x, err := c.convert(it, depth+1)
			if err != nil {
				return nil, err
			}
			out.Items = append(out.Items, x)
		}
		return out, nil
	case *ast.AnchorNode:
		if v.Name != nil {
			c.anchors[v.Name.String()] = v.Value
		}
		return c.convert(v.Value, depth+1)
	case *ast.AliasNode:
		name := ""
		if v.Value != nil {
			name = v.Value.String()
		}
		target, ok := c.anchors[name]
		if !ok {
			return nil, &Error{Line: line, Col: col, Msg: fmt.Sprintf("unknown alias *%s", name)}
		}
		return c.convert(target, depth+1)
	case *ast.TagNode:
		x, err := c.convert(v.Value, depth+1)
		if err != nil {
			return nil, err
		}
		if v.Start != nil && (v.Start.Value == "!!str" || v.Start.Value == "!str") && x.Kind == Scalar {
			x.Type = String
		}
		return x, nil
	case *ast.CommentNode, *ast.CommentGroupNode:
		return &Node{Kind: Null, Line: line, Col: col}, nil
	}
	return nil, &Error{Line: line, Col: col, Msg: fmt.Sprintf("unsupported YAML node %s", n.Type())}
}

func tokenValue(n ast.Node, def string) string {
	if t := n.GetToken(); t != nil && t.Value != "" {
		return t.Value
	}
	return def
}

func (c *converter) addEntry(out *Node, mv *ast.MappingValueNode, depth int) error {
	if mv.Key == nil {
		return nil
	}
	if _, merge := mv.Key.(*ast.MergeKeyNode); merge {
		src, err := c.convert(mv.Value, depth+1)
		if err != nil {
			return err
		}
		if src.Kind == Map {
			out.Keys = append(out.Keys, src.Keys...)
			out.Values = append(out.Values, src.Values...)
		}
		return nil
	}
	k, err := c.convert(mv.Key, depth+1)
	if err != nil {
		return err
	}
	if k.Kind != Scalar {
		return &Error{Line: k.Line, Col: k.Col, Msg: "mapping keys must be scalars"}
	}
	var v *Node
	if mv.Value == nil {
		v = &Node{Kind: Null, Line: k.Line, Col: k.Col}
	} else if v, err = c.convert(mv.Value, depth+1); err != nil {
		return err
	}
	out.Keys = append(out.Keys, k)
	out.Values = append(out.Values, v)
	return nil
}
