package record

import (
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"1/2/2006, 3:04:05.999999999 PM",
	"1/2/2006 3:04:05.999999999 PM",
	"1/2/2006, 15:04:05.999999999",
	"1/2/2006 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999 -07:00",
	time.RFC1123Z,
}

// ParseTime reads the timestamps found in Entra exports: RFC 3339 with any
// number of fractional digits and any offset, zone-less ISO forms (taken as
// UTC), and the US forms of the Log Analytics and portal CSV downloads
// ("9/19/2023, 1:45:17.287 PM"). The result is in UTC.
func ParseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	s = strings.TrimSuffix(s, " UTC")
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// TimeOf parses a value holding a timestamp.
func TimeOf(v *fastjson.Value) (time.Time, bool) {
	if v == nil || v.Type() != fastjson.TypeString {
		return time.Time{}, false
	}
	b, _ := v.StringBytes()
	return ParseTime(string(b))
}

var (
	fieldCreated  = CompileField("CreatedDateTime")
	fieldActivity = CompileField("ActivityDateTime")
	fieldTime     = CompileField("TimeGenerated")
	fieldLastSeen = CompileField("approximateLastSignInDateTime")
	fieldRegTime  = CompileField("registrationDateTime")
	fieldEvtTime  = CompileField("EventTime")
)

// Time returns the time of the event the record describes: when the sign-in
// or activity happened, else when the record was generated.
func (r *Record) Time() (time.Time, bool) {
	var fs []*Field
	switch r.Kind {
	case KindSignIn:
		fs = []*Field{fieldCreated, fieldTime}
	case KindAudit:
		fs = []*Field{fieldActivity, fieldTime}
	case KindDevice:
		fs = []*Field{fieldLastSeen, fieldRegTime}
	default:
		fs = []*Field{fieldEvtTime, fieldTime, fieldCreated}
	}
	for _, f := range fs {
		if t, ok := TimeOf(r.Get(f)); ok {
			return t, true
		}
	}
	return time.Time{}, false
}
