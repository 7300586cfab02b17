package kql

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"
)

// formats are the formats of Write.
var formats = map[string]bool{"json": true, "csv": true, "table": true}

// Write writes t as WriteJSON, WriteCSV or WriteTable does, by the
// format's name: json, csv or table.
func Write(w io.Writer, t *Table, format string) error {
	switch format {
	case "json":
		return WriteJSON(w, t)
	case "csv":
		return WriteCSV(w, t)
	case "table":
		return WriteTable(w, t)
	}
	return fmt.Errorf("unknown output format %q (json, csv or table)", format)
}

// writeLines writes rendered rows, a chunk of rows per write.
func writeLines(w io.Writer, lines [][]byte) error {
	var b []byte
	for i, l := range lines {
		b = append(b, l...)
		if len(b) >= 1<<20 || i == len(lines)-1 {
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	return nil
}

// WriteJSON writes one JSON object per row, columns in table order.
func WriteJSON(w io.Writer, t *Table) error {
	return writeRows(w, len(t.Rows), func(b []byte, lo, hi int) ([]byte, error) {
		for _, r := range t.Rows[lo:hi] {
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
		}
		return b, nil
	})
}

// WriteCSV writes a header and one record per row (values as tostring()).
func WriteCSV(w io.Writer, t *Table) error {
	head := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		head[i] = c.Name
	}
	var hb bytes.Buffer
	cw := csv.NewWriter(&hb)
	if err := cw.Write(head); err != nil {
		return err
	}
	cw.Flush()
	if _, err := w.Write(hb.Bytes()); err != nil {
		return err
	}
	return writeRows(w, len(t.Rows), func(b []byte, lo, hi int) ([]byte, error) {
		buf := bytes.NewBuffer(b)
		cw := csv.NewWriter(buf)
		rec := make([]string, len(t.Columns))
		for _, r := range t.Rows[lo:hi] {
			for i := range rec {
				rec[i] = r[i].Text()
			}
			if err := cw.Write(rec); err != nil {
				return nil, err
			}
		}
		cw.Flush()
		return buf.Bytes(), cw.Error()
	})
}

// rowsPerChunk is how many rows writeRows renders at once.
const rowsPerChunk = 256

// writeRows writes n rows rendered by render (which appends rows lo…hi-1
// to b), in order, a chunk of rows per write; chunks are rendered by one
// goroutine per core when there are many.
func writeRows(w io.Writer, n int, render func(b []byte, lo, hi int) ([]byte, error)) error {
	chunks := (n + rowsPerChunk - 1) / rowsPerChunk
	workers := min(runtime.GOMAXPROCS(0), chunks)
	bufs := make([][]byte, max(workers, 1))
	errs := make([]error, len(bufs))
	for first := 0; first < chunks; first += len(bufs) {
		wave := min(len(bufs), chunks-first)
		var wg sync.WaitGroup
		for k := 0; k < wave; k++ {
			lo := (first + k) * rowsPerChunk
			hi := min(lo+rowsPerChunk, n)
			do := func() { bufs[k], errs[k] = render(bufs[k][:0], lo, hi) }
			if wave == 1 {
				do()
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				do()
			}()
		}
		wg.Wait()
		for k := 0; k < wave; k++ {
			if errs[k] != nil {
				return errs[k]
			}
			if _, err := w.Write(bufs[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

var blanks = strings.NewReplacer("\n", " ", "\r", " ", "\t", " ")

// WriteTable writes an aligned text table; long cells are cut at 60
// characters.
func WriteTable(w io.Writer, t *Table) error {
	const max = 60
	cell := func(s string) string {
		s = blanks.Replace(s)
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
