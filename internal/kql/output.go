package kql

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// WriteJSON writes one JSON object per row, columns in table order.
func WriteJSON(w io.Writer, t *Table) error {
	var b []byte
	for _, r := range t.Rows {
		b = b[:0]
		b = append(b, '{')
		for i, c := range t.Columns {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, c.Name)
			b = append(b, ':')
			b = r[i].AppendJSON(b)
		}
		b = append(b, '}', '\n')
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// WriteCSV writes a header and one record per row (values as tostring()).
func WriteCSV(w io.Writer, t *Table) error {
	cw := csv.NewWriter(w)
	head := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		head[i] = c.Name
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	rec := make([]string, len(t.Columns))
	for _, r := range t.Rows {
		for i := range rec {
			rec[i] = r[i].Text()
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable writes an aligned text table; long cells are cut at 60
// characters.
func WriteTable(w io.Writer, t *Table) error {
	const max = 60
	cell := func(s string) string {
		s = strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(s)
		if utf8.RuneCountInString(s) > max {
			s = string([]rune(s)[:max-1]) + "…"
		}
		return s
	}
	width := make([]int, len(t.Columns))
	cells := make([][]string, len(t.Rows))
	for i, c := range t.Columns {
		width[i] = utf8.RuneCountInString(c.Name)
	}
	for ri, r := range t.Rows {
		cells[ri] = make([]string, len(r))
		for i := range r {
			cells[ri][i] = cell(r[i].Text())
			if n := utf8.RuneCountInString(cells[ri][i]); n > width[i] {
				width[i] = n
			}
		}
	}
	line := func(vals []string) error {
		var b strings.Builder
		for i, v := range vals {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(v)
			if i < len(vals)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(v)))
			}
		}
		_, err := fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		return err
	}
	head := make([]string, len(t.Columns))
	sep := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		head[i] = c.Name
		sep[i] = strings.Repeat("-", width[i])
	}
	if err := line(head); err != nil {
		return err
	}
	if err := line(sep); err != nil {
		return err
	}
	for _, r := range cells {
		if err := line(r); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "(%d rows)\n", len(t.Rows))
	return err
}
