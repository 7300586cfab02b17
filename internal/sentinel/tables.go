package sentinel

import (
	"reflect"
	"sort"
	"strings"

	"github.com/entrawatch/entrawatch/internal/kql"
	"github.com/entrawatch/entrawatch/internal/record"
)

var tableRefType = reflect.TypeOf(&kql.TableRef{})

// queryTables returns the presented tables a parsed query names, sorted.
// It walks the whole AST by reflection (function bodies, subqueries of
// in and toscalar, join and union legs, mv-apply bodies…), so that a new
// node type of internal/kql cannot hide a table; a let named like a table
// only adds that table, which is safe.
func queryTables(q *kql.Query) []string {
	found := map[string]bool{}
	seen := map[uintptr]bool{}
	var walk func(v reflect.Value, depth int)
	walk = func(v reflect.Value, depth int) {
		if depth > 10000 {
			return
		}
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() || seen[v.Pointer()] {
				return
			}
			seen[v.Pointer()] = true
			if v.Type() == tableRefType {
				ref := v.Elem()
				if !ref.FieldByName("Call").Bool() {
					if t := canonicalTable(ref.FieldByName("Name").String()); t != "" {
						found[t] = true
					}
				}
			}
			walk(v.Elem(), depth+1)
		case reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem(), depth+1)
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(v.Field(i), depth+1)
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i), depth+1)
			}
		case reflect.Map:
			it := v.MapRange()
			for it.Next() {
				walk(it.Value(), depth+1)
			}
		}
	}
	walk(reflect.ValueOf(q), 0)
	out := make([]string, 0, len(found))
	for t := range found {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// canonicalTable returns the spelling of a presented table (kql.Schemas),
// or "" when name is none.
func canonicalTable(name string) string {
	for t := range kql.Schemas {
		if strings.EqualFold(t, name) {
			return t
		}
	}
	return ""
}

// tableKinds are the record kinds whose records each table holds.
var tableKinds = map[string]record.Kind{
	record.TableSignIn: record.KindSignIn, record.TableNonInteractive: record.KindSignIn,
	record.TableServicePrincipal: record.KindSignIn, record.TableManagedIdentity: record.KindSignIn,
	record.TableAudit: record.KindAudit, record.TableSecurityEvent: record.KindWindowsEvent,
	record.TableSyslog: record.KindSyslog, record.TableDevices: record.KindDevice,
}

// tableOf returns the table kql.RowOf puts a record in (without building
// the row), or "" when kql has no schema for it.
func tableOf(r *record.Record) string {
	t := kql.TableOf(r)
	if _, ok := kql.Schemas[t]; !ok {
		return ""
	}
	return t
}

// timeColumn is the column that places a table's rows in time (as kql's
// reference time).
func timeColumn(table string) int { return kql.TimeColumn(kql.Schemas[table]) }

// timeFields are the fields read for the time of a record whose row is
// not kept, per table.
var timeFields = func() map[string]*record.Field {
	m := map[string]*record.Field{}
	for t := range kql.Schemas {
		if i := timeColumn(t); i >= 0 {
			m[t] = record.CompileField(kql.Schemas[t][i].Name)
		}
	}
	return m
}()
