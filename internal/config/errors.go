package config

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one mistake (or warning) in a configuration file, at a
// 1-based line and column (0:0 when it concerns the whole file).
type Problem struct {
	Line, Col int
	Msg       string
}

// At formats the problem as "FILE:LINE:COL: message".
func (p Problem) At(file string) string {
	if p.Line <= 0 {
		return fmt.Sprintf("%s: %s", file, p.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", file, p.Line, p.Col, p.Msg)
}

// Errors is every problem found in one configuration file, sorted by
// position. Parse, Load and ResolveSecrets return it.
type Errors struct {
	// File is the name the file was read under.
	File string
	List []Problem
}

// Error returns the problems one per line, as "FILE:LINE:COL: message".
func (e *Errors) Error() string {
	var b strings.Builder
	for i, p := range e.List {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.At(e.File))
	}
	return b.String()
}

// maxProblems bounds the problems kept for one file.
const maxProblems = 200

// problems collects problems up to maxProblems.
type problems struct {
	list    []Problem
	dropped bool
}

func (ps *problems) add(line, col int, msg string) {
	if len(ps.list) >= maxProblems {
		ps.dropped = true
		return
	}
	ps.list = append(ps.list, Problem{Line: line, Col: col, Msg: msg})
}

// sorted returns the problems by position, with a last note when some
// were dropped.
func (ps *problems) sorted() []Problem {
	out := append([]Problem(nil), ps.list...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Col < out[j].Col
	})
	if ps.dropped {
		last := Problem{Msg: fmt.Sprintf("too many problems: only the first %d are shown", maxProblems)}
		if n := len(out); n > 0 {
			last.Line, last.Col = out[n-1].Line, out[n-1].Col
		}
		out = append(out, last)
	}
	return out
}
