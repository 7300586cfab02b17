// Package sigma loads Sigma rules (specification v2) and compiles them into
// entrawatch's condition AST, so that they run beside the built-in
// detections on every format entrawatch reads. Every rule is either
// compiled or refused with its file, line and reason: nothing is dropped
// silently.
package sigma

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/entrawatch/entrawatch/internal/yamltree"
)

// Rule is one Sigma document.
type Rule struct {
	// File is where the rule was read from; Line its first line.
	File string
	Line int

	ID, Title, Status, Description, Author, Date, Modified, Level string
	References, Tags, FalsePositives, Fields                      []string
	Logsource                                                     Logsource
	// Type is "" for detection rules, "correlation" or "filter".
	Type string

	doc *yamltree.Node
	// Custom holds attributes outside the specification (kept for
	// "rules show" and alerts), such as entrawatch's own guide notes.
	Custom map[string]string
}

// Logsource is a rule's logsource section.
type Logsource struct {
	Category, Product, Service, Definition string
}

// Problem is a rule that cannot be used, or a warning about one.
type Problem struct {
	File      string
	Line, Col int
	RuleID    string
	Msg       string
}

func (p Problem) Error() string {
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
	if p.RuleID != "" {
		return fmt.Sprintf("%s: rule %s: %s", loc, p.RuleID, p.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, p.Msg)
}

// Name returns the rule's id, or its file name when it has none.
func (r *Rule) Name() string {
	if r.ID != "" {
		return r.ID
	}
	base := filepath.Base(r.File)
	return strings.TrimSuffix(strings.TrimSuffix(base, ".yml"), ".yaml")
}

var knownKeys = map[string]bool{
	"title": true, "id": true, "related": true, "name": true, "taxonomy": true, "status": true, "description": true,
	"license": true, "author": true, "references": true, "date": true, "modified": true, "logsource": true,
	"detection": true, "fields": true, "falsepositives": true, "level": true, "tags": true, "scope": true,
	"correlation": true, "filter": true, "generate": true, "action": true,
}

// Parse reads the Sigma documents of one file.
func Parse(file string, src []byte) ([]*Rule, []Problem) { return parse(file, src, nil) }

// Other is offered each YAML document of a rule file before it is read as
// Sigma; a document it takes (returns true for) is left to it. It lets
// folders mix Sigma rules with rules of other formats.
type Other func(file string, src []byte, doc *yamltree.Node) bool

// ParseYAML reads the documents of a rule file, or returns the syntax
// error as a Problem at its line and column.
func ParseYAML(file string, src []byte) ([]*yamltree.Node, []Problem) {
	docs, err := yamltree.Parse(src)
	if err != nil {
		p := Problem{File: file, Msg: err.Error()}
		if ye, ok := err.(*yamltree.Error); ok {
			p.Line, p.Col, p.Msg = ye.Line, ye.Col, ye.Msg
		}
		return nil, []Problem{p}
	}
	return docs, nil
}

func parse(file string, src []byte, other Other) ([]*Rule, []Problem) {
	docs, probs := ParseYAML(file, src)
	if probs != nil {
		return nil, probs
	}
	var rules []*Rule
	for _, d := range docs {
		if other != nil && other(file, src, d) {
			continue
		}
		if d.Kind != yamltree.Map {
			probs = append(probs, Problem{File: file, Line: d.Line, Col: d.Col, Msg: "a Sigma document must be a mapping, found " + d.Describe()})
			continue
		}
		r := &Rule{File: file, Line: d.Line, doc: d, Custom: map[string]string{}}
		str := func(key string) string {
			if n := d.Get(key); n != nil && n.Kind == yamltree.Scalar {
				return n.Str
			}
			return ""
		}
		list := func(key string) []string {
			n := d.Get(key)
			switch {
			case n == nil:
				return nil
			case n.Kind == yamltree.Scalar:
				return []string{n.Str}
			case n.Kind == yamltree.Seq:
				var out []string
				for _, it := range n.Items {
					if it.Kind == yamltree.Scalar {
						out = append(out, it.Str)
					}
				}
				return out
			}
			return nil
		}
		r.ID, r.Title, r.Status, r.Description = str("id"), str("title"), str("status"), str("description")
		r.Author, r.Date, r.Modified, r.Level = str("author"), str("date"), str("modified"), strings.ToLower(str("level"))
		r.References, r.Tags, r.FalsePositives, r.Fields = list("references"), list("tags"), list("falsepositives"), list("fields")
		if ls := d.Get("logsource"); ls != nil && ls.Kind == yamltree.Map {
			get := func(k string) string {
				if n := ls.Get(k); n != nil && n.Kind == yamltree.Scalar {
					return strings.ToLower(n.Str)
				}
				return ""
			}
			r.Logsource = Logsource{Category: get("category"), Product: get("product"), Service: get("service"), Definition: get("definition")}
		}
		switch {
		case d.Get("correlation") != nil:
			r.Type = "correlation"
		case d.Get("filter") != nil:
			r.Type = "filter"
		}
		for i, k := range d.Keys {
			if !knownKeys[k.Str] && d.Values[i].Kind == yamltree.Scalar {
				r.Custom[k.Str] = d.Values[i].Str
			}
		}
		if str("action") == "global" || str("action") == "reset" || str("action") == "repeat" {
			probs = append(probs, Problem{File: file, Line: d.Line, Col: d.Col, RuleID: r.Name(), Msg: "Sigma v1 rule collections (action: global/reset/repeat) are not part of Sigma 2; split the collection into rules"})
			continue
		}
		rules = append(rules, r)
	}
	return rules, probs
}

// LoadPaths reads every .yml and .yaml file under the given files and
// folders, in lexical order.
func LoadPaths(paths []string) ([]*Rule, []Problem) { return LoadPathsWith(paths, nil) }

// LoadPathsWith is LoadPaths handing the documents other takes to it.
func LoadPathsWith(paths []string, other Other) ([]*Rule, []Problem) {
	var rules []*Rule
	var probs []Problem
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			probs = append(probs, Problem{File: p, Msg: err.Error()})
			continue
		}
		var files []string
		if st.IsDir() {
			_ = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
				if err != nil {
					probs = append(probs, Problem{File: path, Msg: err.Error()})
					return nil
				}
				if !d.IsDir() && (strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml")) {
					files = append(files, path)
				}
				return nil
			})
			sort.Strings(files)
		} else {
			files = []string{p}
		}
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				probs = append(probs, Problem{File: f, Msg: err.Error()})
				continue
			}
			rs, ps := parse(f, src, other)
			rules = append(rules, rs...)
			probs = append(probs, ps...)
		}
	}
	return rules, probs
}

// Source returns the text of the rule's YAML document from its file.
func Source(r *Rule) (string, error) {
	src, err := os.ReadFile(r.File)
	if err != nil {
		return "", err
	}
	lines := strings.SplitAfter(string(src), "\n")
	start := r.Line - 1
	if start < 0 || start >= len(lines) {
		start = 0
	}
	// The document begins at its first key; include comments right above.
	for start > 0 && strings.HasPrefix(strings.TrimSpace(lines[start-1]), "#") {
		start--
	}
	var b strings.Builder
	for _, l := range lines[start:] {
		if strings.TrimSpace(l) == "---" {
			break
		}
		b.WriteString(l)
	}
	return b.String(), nil
}
