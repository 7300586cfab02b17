package kql

import (
	"context"
	"io"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/scan"
)

// collector is the detector Load registers instead of the detections: it
// turns every record into its table row and hands the row back through a
// marker alert, so that rows arrive in input order through scan.Run's
// ordered alert sink.
type collector struct {
	info  detect.Info
	relay relay
}

type pending struct {
	table string
	row   []Value
	src   record.Source
}

const collectorID = "kql-collect"

func newCollector() *collector {
	c := &collector{}
	c.info = detect.Info{ID: collectorID, Title: "collect records for entrawatch query", Kinds: append([]record.Kind{record.KindUnknown}, record.Kinds()...)}
	return c
}

func (c *collector) Info() *detect.Info { return &c.info }

func (c *collector) Detect(r *record.Record, emit func(*alert.Alert)) {
	table, row := RowOf(r)
	if table == "" {
		return
	}
	c.relay.send(emit, &pending{table, row, r.Source})
}

// LoadConfig says what to read.
type LoadConfig struct {
	Paths       []string
	Stdin       io.Reader
	InputFormat string
	Year        int
	Warn        func(string)
	// Now is the reference time of now() and ago(); zero means the newest
	// TimeGenerated (else first datetime column) of the records read.
	Now time.Time
}

// Load reads the records of the inputs with the scan pipeline (no
// detection runs) into a database, every column of every row, in input
// order. Exec runs a query without holding what it does not need.
func Load(ctx context.Context, cfg LoadConfig) (*DB, *scan.Stats, error) {
	eng, err := detect.NewEngine(detect.Options{NoBuiltin: true})
	if err != nil {
		return nil, nil, err
	}
	col := newCollector()
	eng.Add(col)
	db := NewDB()
	db.Now = cfg.Now
	stats, err := scan.Run(ctx, scan.Config{
		Paths: cfg.Paths, Stdin: cfg.Stdin, InputFormat: cfg.InputFormat, Year: cfg.Year, Warn: cfg.Warn,
		Engine: eng,
		Alert: func(a *alert.Alert) error {
			if v, ok := col.relay.receive(a); ok {
				p := v.(*pending)
				db.AddRecord(p.table, p.row, p.src)
			}
			return nil
		},
	})
	if err != nil {
		return nil, stats, err
	}
	return db, stats, nil
}
