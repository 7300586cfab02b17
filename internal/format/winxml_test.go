package format

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf16"

	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/valyala/fastjson"
)

// winItem is an Item copied out of the emit callback, with its record
// parsed and classified.
type winItem struct {
	line, index int64
	format      string
	ownLine     bool
	err         string
	data        string
	rec         *record.Record
}

func readWin(t testing.TB, r Reader, in io.Reader, opts Options) ([]winItem, error) {
	t.Helper()
	var out []winItem
	err := r.Split(context.Background(), "in", in, opts, func(it *Item) error {
		x := winItem{line: it.Line, index: it.Index, format: it.Format, ownLine: it.OwnLine, data: string(it.Data)}
		if it.Err != nil {
			if it.Data != nil {
				t.Fatalf("line %d: data beside error %v", it.Line, it.Err)
			}
			x.err = it.Err.Error()
			out = append(out, x)
			return nil
		}
		v, err := fastjson.ParseBytes(it.Data)
		if err != nil {
			t.Fatalf("line %d: invalid JSON %s: %v", it.Line, it.Data, err)
		}
		x.rec = &record.Record{Root: v}
		x.rec.Classify()
		out = append(out, x)
		return nil
	})
	return out, err
}

func readWinFile(t testing.TB, r Reader, name string, opts Options) ([]winItem, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "windows", name))
	if err != nil {
		t.Fatal(err)
	}
	return readWin(t, r, bytes.NewReader(b), opts)
}

// winFields are the fields checked on every Windows record, as the
// detectors name them.
var winFields = []string{"EventID", "LogonType", "TargetUserName", "TargetDomainName", "IpAddress", "WorkstationName", "Computer", "TimeCreated"}

// winWant is one expected record: its line, index and field values (by
// winFields, then any extra "name=value").
type winWant struct {
	line, index int64
	fields      []string
	extra       []string
}

func checkWinRecords(t *testing.T, got []winItem, want []winWant, format string) {
	t.Helper()
	if len(got) != len(want) {
		for _, g := range got {
			t.Logf("line %d: %s%s", g.line, g.err, g.data)
		}
		t.Fatalf("%d items, want %d", len(got), len(want))
	}
	compiled := map[string]*record.Field{}
	fieldOf := func(n string) *record.Field {
		if compiled[n] == nil {
			compiled[n] = record.CompileField(n)
		}
		return compiled[n]
	}
	for i, w := range want {
		g := got[i]
		if g.err != "" {
			t.Errorf("item %d: error %s", i+1, g.err)
			continue
		}
		if g.line != w.line || g.index != w.index || g.ownLine || g.format != format {
			t.Errorf("item %d: line %d index %d ownLine %v format %q, want line %d index %d ownLine false format %q", i+1, g.line, g.index, g.ownLine, g.format, w.line, w.index, format)
		}
		if g.rec.Kind != record.KindWindowsEvent || g.rec.Shape != record.ShapeWindows {
			t.Errorf("item %d: kind %v shape %v, want windows-event / ShapeWindows", i+1, g.rec.Kind, g.rec.Shape)
		}
		check := func(name, want string) {
			v := g.rec.Get(fieldOf(name))
			if got := record.Text(v); got != want || v == nil && want != "" {
				t.Errorf("item %d (line %d): %s = %q, want %q", i+1, g.line, name, got, want)
			}
		}
		for k, name := range winFields {
			check(name, w.fields[k])
		}
		for _, e := range w.extra {
			name, val, _ := strings.Cut(e, "=")
			check(name, val)
		}
	}
}

// The events of testdata/windows/security-wevtutil.xml (and of the other
// files built from the same events).
var (
	wantLocalRDP = []string{"4624", "10", "helpdesk", "VM-WEB-01", "203.0.113.50", "HD-PC-04", "vm-web-01", "2026-11-20T09:15:02.1234567Z"}
	wantEntraRDP = []string{"4624", "10", "AdeleVance", "AzureAD", "198.51.100.23", "CONTOSO-LT-0118", "vm-web-01", "2026-11-20T09:17:44.5000000Z"}
	wantNetwork  = []string{"4624", "3", "svc-backup", "CONTOSO", "10.0.4.17", "BACKUP01", "vm-web-01", "2026-11-20T09:20:11.0000001Z"}
	wantMachine  = []string{"4624", "3", "VM-WEB-01$", "CONTOSO", "fe80::1c3a:9b2e:4d1f:77a0", "-", "vm-web-01", "2026-11-20T09:21:30.9990000Z"}
	// The legacy 528 has unnamed insertion strings, named by the reader
	// with the labels of the 528 message.
	wantLegacy      = []string{"528", "", "", "", "", "", "VM-LEGACY-03", "2026-11-20T09:30:00.000000000Z"}
	wantLegacyExtra = []string{"Logon Type=10", "User Name=Administrator", "Domain=VM-LEGACY-03", "Source Network Address=192.0.2.77",
		"Workstation Name=VM-LEGACY-03", "Logon Process=User32  ", "Event.System.Qualifiers=0", "EventRecordID=88"}
	wantCleared = []string{"1102", "", "", "", "", "", "vm-web-01", "2026-11-20T09:40:12.6727583Z"}
	wantSingle  = []string{"4624", "10", "Administrator", "VM-SQL-02", "203.0.113.9", "R&D-LAPTOP", "vm-sql-02.contoso.com", "2026-11-20T09:15:02.1234567Z"}
)

func TestWinXMLForms(t *testing.T) {
	root, err := os.ReadFile("../../testdata/windows/security-events-root.xml")
	if err != nil {
		t.Fatal(err)
	}
	rootWant := []winWant{
		{3, 1, wantLocalRDP, []string{"LogonProcessName=User32 ", "TargetUserSid=S-1-5-21-3623811015-3361044348-30300820-1005"}},
		{4, 2, wantEntraRDP, []string{"TargetUserSid=S-1-12-1-2883412301-1299053412-2143253903-3011746512"}},
		{5, 3, wantLegacy, wantLegacyExtra},
	}
	utf16Doc := bytes.Replace(root, []byte(`encoding="UTF-8"`), []byte(`encoding="UTF-16"`), 1)
	for _, c := range []struct {
		name string
		in   []byte
		want []winWant
	}{
		{"wevtutil", nil, []winWant{
			{1, 1, wantLocalRDP, []string{"LogonProcessName=User32 ", "SubjectLogonId=0x3e7", "Channel=Security", "EventRecordID=123456", "Provider=Microsoft-Windows-Security-Auditing"}},
			{1, 2, wantEntraRDP, []string{"TargetUserSid=S-1-12-1-2883412301-1299053412-2143253903-3011746512"}},
			{2, 3, wantNetwork, []string{"LogonProcessName=NtLmSsp ", "IpPort=50122"}},
			{3, 4, wantMachine, nil},
			{4, 5, wantLegacy, wantLegacyExtra},
			{5, 6, wantCleared, []string{"Event.UserData.LogFileCleared.SubjectUserName=Administrator", "Event.UserData.LogFileCleared.SubjectLogonId=0x2196a"}},
		}},
		{"events root", root, rootWant},
		{"utf-8 bom", append([]byte("\xef\xbb\xbf"), root...), rootWant},
		{"utf-16le bom", winUTF16(utf16Doc, false, true), rootWant},
		{"utf-16be bom", winUTF16(utf16Doc, true, true), rootWant},
		{"utf-16le no bom", winUTF16(utf16Doc, false, false), rootWant},
		{"single event", nil, []winWant{{1, 1, wantSingle, []string{"LogonProcessName=User32 ", "ProcessId=0x44c"}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			if in == nil {
				file := map[string]string{"wevtutil": "security-wevtutil.xml", "single event": "security-4624-single.xml"}[c.name]
				var err error
				if in, err = os.ReadFile("../../testdata/windows/" + file); err != nil {
					t.Fatal(err)
				}
			}
			if got := Sniff("export.xml", in[:min(len(in), 64<<10)]); got == nil || got.Name() != "winxml" {
				t.Errorf("sniffs as %v", got)
			}
			got, err := readWin(t, WinXML{}, bytes.NewReader(in), Options{MaxRecord: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			checkWinRecords(t, got, c.want, "windows-xml")
			// The same, read a byte at a time.
			again, err := readWin(t, WinXML{}, iotest.OneByteReader(bytes.NewReader(in)), Options{MaxRecord: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			for i := range again {
				if again[i].data != got[i].data || again[i].line != got[i].line {
					t.Errorf("item %d differs when read byte by byte", i+1)
				}
			}
		})
	}
}

// winUTF16 encodes UTF-8 text as UTF-16, with a byte-order mark if bom.
func winUTF16(b []byte, be, bom bool) []byte {
	var out []byte
	put := func(u uint16) {
		if be {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	if bom {
		put(0xfeff)
	}
	for _, u := range utf16.Encode([]rune(string(b))) {
		put(u)
	}
	return out
}

// TestWinXMLShape pins the JSON written for each kind of element.
func TestWinXMLShape(t *testing.T) {
	got, err := readWinFile(t, WinXML{}, "security-wevtutil.xml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{
		0: `{"Event":{"System":{"Provider":{"Name":"Microsoft-Windows-Security-Auditing","Guid":"{54849625-5478-4994-a5ba-3e3b0328c30d}"},` +
			`"EventID":4624,"Version":2,"Level":0,"Task":12544,"Opcode":0,"Keywords":"0x8020000000000000",` +
			`"TimeCreated":{"SystemTime":"2026-11-20T09:15:02.1234567Z"},"EventRecordID":123456,` +
			`"Correlation":{"ActivityID":"{6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0}"},"Execution":{"ProcessID":652,"ThreadID":7312},` +
			`"Channel":"Security","Computer":"vm-web-01","Security":{}},` +
			`"EventData":{"SubjectUserSid":"S-1-5-18","SubjectUserName":"VM-WEB-01$","SubjectDomainName":"WORKGROUP","SubjectLogonId":"0x3e7",` +
			`"TargetUserSid":"S-1-5-21-3623811015-3361044348-30300820-1005","TargetUserName":"helpdesk","TargetDomainName":"VM-WEB-01",` +
			`"TargetLogonId":"0x5a3f21c","LogonType":"10","LogonProcessName":"User32 ","AuthenticationPackageName":"Negotiate",` +
			`"WorkstationName":"HD-PC-04","LogonGuid":"{00000000-0000-0000-0000-000000000000}","TransmittedServices":"-","LmPackageName":"-",` +
			`"KeyLength":"0","ProcessId":"0x28c","ProcessName":"C:\\Windows\\System32\\svchost.exe","IpAddress":"203.0.113.50","IpPort":"0",` +
			`"ImpersonationLevel":"%%1833","RestrictedAdminMode":"%%1843","TargetOutboundUserName":"-","TargetOutboundDomainName":"-",` +
			`"VirtualAccount":"%%1843","TargetLinkedLogonId":"0x0","ElevatedToken":"%%1842"}}}`,
		4: `{"Event":{"System":{"Provider":{"Name":"Security"},"EventID":528,"Qualifiers":0,"Level":0,"Task":2,"Keywords":"0x80000000000000",` +
			`"TimeCreated":{"SystemTime":"2026-11-20T09:30:00.000000000Z"},"EventRecordID":88,"Channel":"Security","Computer":"VM-LEGACY-03",` +
			`"Security":{"UserID":"S-1-5-18"}},"EventData":{"User Name":"Administrator","Domain":"VM-LEGACY-03","Logon ID":"(0x0,0x3A7A6E0)",` +
			`"Logon Type":"10","Logon Process":"User32  ","Authentication Package":"Negotiate","Workstation Name":"VM-LEGACY-03",` +
			`"Logon GUID":"{f6956476-dd7a-df4a-1006-c2026f6e3cc3}","Caller User Name":"VM-LEGACY-03$","Caller Domain":"WORKGROUP",` +
			`"Caller Logon ID":"(0x0,0x3E7)","Caller Process ID":"4012","Transited Services":"-","Source Network Address":"192.0.2.77","Source Port":"1190"}}}`,
		5: `{"Event":{"System":{"Provider":{"Name":"Microsoft-Windows-Eventlog","Guid":"{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}"},"EventID":1102,` +
			`"Version":0,"Level":4,"Task":104,"Opcode":0,"Keywords":"0x4020000000000000","TimeCreated":{"SystemTime":"2026-11-20T09:40:12.6727583Z"},` +
			`"EventRecordID":123480,"Correlation":{},"Execution":{"ProcessID":1188,"ThreadID":6576},"Channel":"Security","Computer":"vm-web-01",` +
			`"Security":{}},"UserData":{"LogFileCleared":{"SubjectUserSid":"S-1-5-21-3623811015-3361044348-30300820-500",` +
			`"SubjectUserName":"Administrator","SubjectDomainName":"VM-WEB-01","SubjectLogonId":"0x2196a"}}}}`,
	}
	for i, w := range want {
		if got[i].data != w {
			t.Errorf("event %d:\n got %s\nwant %s", i+1, got[i].data, w)
		}
	}
}

// TestWinXMLElements covers the less common element forms.
func TestWinXMLElements(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"unnamed data", `<Event><System><EventID>7036</EventID></System><EventData><Data>a</Data><Data>b</Data><Binary>00FF</Binary></EventData></Event>`,
			`{"Event":{"System":{"EventID":7036},"EventData":{"Data1":"a","Data2":"b","Binary":"00FF"}}}`},
		{"qualifiers, offset time, empty data", `<Event><System><EventID Qualifiers='16384'>7036</EventID><TimeCreated SystemTime='2026-01-02T03:04:05.5+02:00'/></System><EventData><Data Name='x'/><Data Name='x'>dup</Data></EventData></Event>`,
			`{"Event":{"System":{"EventID":7036,"Qualifiers":16384,"TimeCreated":{"SystemTime":"2026-01-02T01:04:05.5Z"}},"EventData":{"x":"","x_2":"dup"}}}`},
		{"cdata, char refs, comments", "<Event><EventData><Data Name='a'>x<![CDATA[<y>]]>&#x41;<!-- c -->z</Data><Data Name='ctl'>&#9;\u00e9</Data></EventData></Event>",
			`{"Event":{"EventData":{"a":"x\u003cy\u003eAz","ctl":"\t` + "\u00e9" + `"}}}`},
		{"rendering info, repeated children", `<Event><System><EventID>4624</EventID></System><RenderingInfo Culture='en-US'><Message>An account was successfully logged on.</Message><Keywords><Keyword>Audit Success</Keyword><Keyword>Other</Keyword></Keywords></RenderingInfo></Event>`,
			`{"Event":{"System":{"EventID":4624},"RenderingInfo":{"Culture":"en-US","Message":"An account was successfully logged on.","Keywords":{"Keyword":["Audit Success","Other"]}}}}`},
		{"non-numeric ids kept as text", `<Event><System><EventID>12a</EventID><Version>99999999999999999999999</Version><TimeCreated SystemTime='yesterday'/></System></Event>`,
			`{"Event":{"System":{"EventID":"12a","Version":"99999999999999999999999","TimeCreated":{"SystemTime":"yesterday"}}}}`},
		{"528 with named data stays named", `<Event><System><Provider Name='Security'/><EventID>528</EventID></System><EventData><Data Name='LogonType'>10</Data><Data>x</Data></EventData></Event>`,
			`{"Event":{"System":{"Provider":{"Name":"Security"},"EventID":528},"EventData":{"LogonType":"10","Data1":"x"}}}`},
		{"prefixed names, namespace declarations dropped", `<e:Events xmlns:e='urn:x'><e:Event xmlns:e='urn:x' xmlns='urn:y'><e:System><e:EventID>1</e:EventID></e:System></e:Event></e:Events>`,
			`{"Event":{"System":{"EventID":1}}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := readWin(t, WinXML{}, strings.NewReader(c.in), Options{})
			if err != nil || len(got) != 1 || got[0].data != c.want {
				t.Fatalf("err %v, items %+v\nwant %s", err, got, c.want)
			}
		})
	}
}

func TestWinXMLMalformed(t *testing.T) {
	ev := func(id int) string {
		return fmt.Sprintf("<Event><System><EventID>4624</EventID><EventRecordID>%d</EventRecordID><Computer>h</Computer></System><EventData><Data Name='LogonType'>10</Data></EventData></Event>", id)
	}
	deep := "<Event>" + strings.Repeat("<a>", 200) + strings.Repeat("</a>", 200) + "</Event>"
	laughs := `<!DOCTYPE Event [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>` + "\n" +
		`<Event><EventData><Data Name='x'>&b;</Data></EventData></Event>` + "\n" + ev(2)
	for _, c := range []struct {
		name, in string
		max      int
		records  []int64  // EventRecordIDs read
		errs     []string // errors, in order, each "line N: …" prefix
	}{
		{"fixture", "", 0, []int64{123456, 123472, 123460}, []string{"line 2: malformed event: element <Data> closed by </EventData> on line 2"}},
		{"truncated at the end", ev(1) + "\n" + ev(2)[:38], 0, []int64{1}, []string{"line 2: malformed event: the event is not closed at the end of the input"}},
		{"truncated inside a tag", ev(1) + "\n" + ev(2)[:30], 0, []int64{1}, []string{"line 2: malformed event: unexpected EOF on line 2"}},
		{"unclosed event before the next", ev(1)[:80] + "\n" + ev(2), 0, []int64{2}, []string{"line 1: malformed event: the event is not closed before the next <Event> on line 2"}},
		{"syntax error then resync", ev(1) + "\n<Event><System><EventID a=b>1</EventID></System></Event>\n" + ev(3), 0, []int64{1, 3}, []string{"line 2: malformed event: unquoted or missing attribute value in element on line 2"}},
		{"syntax error swallowing the next start", "<Event><Foo<Event><System><EventRecordID>5</EventRecordID></System></Event>", 0, []int64{5}, []string{"line 1: malformed event: expected attribute name in element on line 1"}},
		{"stray end tag", ev(1) + "\n<Event><System></Foo></System></Event>\n" + ev(3), 0, []int64{1, 3}, []string{"line 2: malformed event: element <System> closed by </Foo> on line 2"}},
		{"unknown entity", ev(1) + "\n<Event><EventData><Data Name='x'>&nbsp;</Data></EventData></Event>\n" + ev(3), 0, []int64{1, 3}, []string{"line 2: malformed event: invalid character entity &nbsp; on line 2"}},
		{"entity expansion refused", laughs, 0, []int64{2}, []string{"line 2: malformed event: invalid character entity &b; on line 2"}},
		{"too deep", ev(1) + "\n" + deep + "\n" + ev(3), 0, []int64{1, 3}, []string{"line 2: malformed event: elements nested deeper than 64 on line 2"}},
		{"too big", ev(1) + "\n<Event><EventData><Data Name='x'>" + strings.Repeat("y", 5000) + "</Data></EventData></Event>\n" + ev(3), 1024, []int64{1, 3},
			[]string{"line 2: malformed event: the event is over the record size limit (1024 bytes); skipped"}},
		{"text between events", ev(1) + "\nnot xml &amp; more\n" + ev(2), 0, []int64{1, 2}, []string{`line 2: text outside any <Event>: "not xml & more\n"`}},
		{"huge text outside events", ev(1) + "\n" + strings.Repeat("z", 5000) + ev(2), 1024, []int64{1, 2}, []string{"line 2: content outside any event is over the record size limit (1024 bytes); skipped"}},
		{"garbage markup between events", ev(1) + "\n<<<>>>\n" + ev(2), 0, []int64{1, 2}, []string{"line 2: expected element name after <"}},
		{"top-level error line", ev(1) + "\n<!-- a\nb\nc -- d -->\n" + ev(2), 0, []int64{1, 2}, []string{`line 4: invalid sequence "--" not allowed in comments`}},
		{"wrapper survives a bad event", "<Events>\n" + ev(1) + "\n<Event><System><EventID>1<</EventID></System></Event>\n" + ev(3) + "\n</Events>\n", 0, []int64{1, 3}, []string{"line 3: malformed event: expected element name after < on line 3"}},
		{"unsupported charset", `<?xml version="1.0" encoding="EBCDIC"?>` + "\n" + ev(1), 0, []int64{1}, []string{`line 1: opening charset "EBCDIC": unsupported encoding "EBCDIC"`}},
		{"illegal character reference", ev(1) + "\n<Event><Data>&#0;</Data></Event>\n" + ev(3), 0, []int64{1, 3}, []string{"line 2: malformed event: illegal character code U+0000 on line 2"}},
		{"resync keeps lines", "<Event>\n<Foo<Event>\n<System><EventRecordID>5</EventRecordID></System></Event>\n" + ev(6), 0, []int64{5, 6}, []string{"line 1: malformed event: expected attribute name in element on line 2"}},
		{"not xml at all", "hello world", 0, nil, []string{`line 1: text outside any <Event>: "hello world"`}},
		{"empty", "", 0, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []winItem
			var err error
			opts := Options{MaxRecord: c.max}
			if c.in == "" && c.name == "fixture" {
				got, err = readWinFile(t, WinXML{}, "security-malformed.xml", opts)
			} else {
				got, err = readWin(t, WinXML{}, strings.NewReader(c.in), opts)
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			var errs []string
			var last int64
			for _, g := range got {
				if g.line < last {
					t.Errorf("line %d after line %d", g.line, last)
				}
				last = g.line
				if g.err != "" {
					errs = append(errs, g.err)
					if !strings.HasPrefix(g.err, fmt.Sprintf("line %d: ", g.line)) {
						t.Errorf("error %q does not name its line %d", g.err, g.line)
					}
					continue
				}
				ids = append(ids, record.Text(g.rec.Lookup("EventRecordID")))
			}
			if strings.Join(ids, " ") != strings.Trim(fmt.Sprint(c.records), "[]") || fmt.Sprint(errs) != fmt.Sprint(c.errs) {
				t.Errorf("records %v, errors %q\nwant %v, %q", ids, errs, c.records, c.errs)
			}
		})
	}
}

// TestWinXMLLines checks the lines given to records and errors, across
// resynchronisations after syntax errors and oversized events.
func TestWinXMLLines(t *testing.T) {
	in := "<Events>\n" + // 1
		"<Event>\n<Foo<Event>\n" + // 2, 3: a syntax error swallows the start of the next event
		"<System><EventID>1</EventID></System></Event>\n" + // 4
		"<Event><Data>" + strings.Repeat("x\n", 600) + "</Data></Event>\n" + // 5–605: over the limit
		"\n<Event>\n<System><EventID>2</EventID></System>\n</Event>\n" + // 606, 607
		"<!-- -- -->\n" + // 610: a top-level syntax error
		"<Event><System><EventID>3</EventID></System></Event></Events>\n" // 611
	got, err := readWin(t, WinXML{}, strings.NewReader(in), Options{MaxRecord: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, g := range got {
		if g.err != "" {
			lines = append(lines, g.err)
		} else {
			lines = append(lines, fmt.Sprintf("%d:%d:%s", g.line, g.index, record.Text(g.rec.Lookup("EventID"))))
		}
	}
	want := []string{
		"line 2: malformed event: expected attribute name in element on line 3",
		"3:2:1",
		"line 5: malformed event: the event is over the record size limit (1000 bytes); skipped",
		"607:4:2",
		`line 610: invalid sequence "--" not allowed in comments`,
		"611:5:3",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// winFailReader returns its data, then an error.
type winFailReader struct {
	data []byte
	err  error
}

func (r *winFailReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestWinXMLReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	in := "<Event><System><EventID>1</EventID></System></Event>\n<Event><System>"
	got, err := readWin(t, WinXML{}, &winFailReader{data: []byte(in), err: boom}, Options{})
	if !errors.Is(err, boom) || len(got) != 1 || got[0].err != "" {
		t.Fatalf("err %v, items %+v", err, got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (WinXML{}).Split(ctx, "x", strings.NewReader(in), Options{}, func(*Item) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	stop := errors.New("stop")
	if err := (WinXML{}).Split(context.Background(), "x", strings.NewReader(in), Options{}, func(*Item) error { return stop }); err != stop {
		t.Fatalf("emit error: %v", err)
	}
}

func TestWinXMLEncodings(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"windows-1252", []byte("<?xml version='1.0' encoding='windows-1252'?><Event><System><EventID>1</EventID></System><EventData><Data Name='u'>Ren\xe9 \x80</Data></EventData></Event>"), "René €"},
		{"latin-1", []byte("<?xml version='1.0' encoding='ISO-8859-1'?><Event><System><EventID>1</EventID></System><EventData><Data Name='u'>Ren\xe9 \x80</Data></EventData></Event>"), "René \u0080"},
		{"invalid utf-8 as U+FFFD", []byte("<Event><System><EventID>1</EventID></System><EventData><Data Name='u'>a\xffb\xc3(\xe2\x82\xac\xe2\x82\xed\xa0\x80\xf0\x9f\x98</Data></EventData></Event>"), "a\ufffdb\ufffd(€\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd"},
		{"control characters as U+FFFD", []byte("<Event><System><EventID>1</EventID></System><EventData><Data Name='u'>a\x00b\x1b[0m\tc\xef\xbf\xbe</Data></EventData></Event>"), "a\ufffdb\ufffd[0m\tc\ufffd"},
		{"utf-16 surrogates", winUTF16([]byte("<Event><System><EventID>1</EventID></System><EventData><Data Name='u'>\U0001F600</Data></EventData></Event>"), false, true), "\U0001F600"},
		{"utf-16 lone surrogate", append(winUTF16([]byte("<Event><System><EventID>1</EventID></System><EventData><Data Name='u'>"), false, true), append([]byte{0x00, 0xd8}, winUTF16([]byte("x</Data></EventData></Event>"), false, false)...)...), "\ufffdx"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := readWin(t, WinXML{}, bytes.NewReader(c.in), Options{})
			if err != nil || len(got) != 1 || got[0].err != "" {
				t.Fatalf("err %v, items %+v", err, got)
			}
			if u := record.Text(got[0].rec.Lookup("u")); u != c.want {
				t.Errorf("u = %q, want %q", u, c.want)
			}
		})
	}
}

func TestWinXMLSniff(t *testing.T) {
	ev := "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
	for _, c := range []struct {
		name, head, want string
	}{
		{"wevtutil", ev, "winxml"},
		{"events root", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<Events>\r\n" + ev, "winxml"},
		{"comment first", "  <!-- exported -->\n<Event>", "winxml"},
		{"utf-16le bom", string(winUTF16([]byte("<?xml version='1.0'?><Events>"), false, true)), "winxml"},
		{"utf-16be no bom", string(winUTF16([]byte("<Event>"), true, false)), "winxml"},
		{"other xml", "<?xml version='1.0'?><root><Event/></root>", ""},
		{"eventful", "<EventLog>", ""},
		{"json", `{"Event":{"System":{}}}`, "json"},
		{"unterminated declaration", "<?xml version='1.0'", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := ""
			if r := Sniff("events.xml", []byte(c.head)); r != nil {
				got = r.Name()
			}
			if got != c.want && !(c.want == "" && got != "winxml") {
				t.Errorf("sniffs as %q, want %q", got, c.want)
			}
			if s := (WinXML{}).Sniff("x", []byte(c.head)); (s == 60) != (c.want == "winxml") {
				t.Errorf("score %d", s)
			}
		})
	}
}

// FuzzWinXMLReader checks the reader's invariants on any input: items
// carry data or an error, lines never go back, records are valid JSON in
// the Windows shape, errors name their line, and the output does not depend
// on how the input is chunked.
//
// Its seeds are in testdata/fuzz/FuzzWinXMLReader (kept small: the fuzzer
// minimises every new input, for up to a minute each by default).
func FuzzWinXMLReader(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte, m uint16) {
		max := fuzzMax(m)
		whole, errW := collect(t, WinXML{}, "f.xml", bytes.NewReader(b), len(b), max)
		if errW != nil {
			t.Fatalf("error reading from memory: %v", errW)
		}
		bytewise, errB := collect(t, WinXML{}, "f.xml", iotest.OneByteReader(bytes.NewReader(b)), len(b), max)
		sameItems(t, whole, bytewise, errW, errB)
		for _, it := range whole {
			if it.err != "" {
				if !strings.HasPrefix(it.err, fmt.Sprintf("line %d: ", it.line)) {
					t.Fatalf("error does not name its line %d: %q", it.line, it.err)
				}
				continue
			}
			if len(it.data) > max || !json.Valid([]byte(it.data)) || !strings.HasPrefix(it.data, `{"Event":{`) || it.format != "windows-xml" || it.ownLine {
				t.Fatalf("line %d: bad record (%d bytes, limit %d): %s", it.line, len(it.data), max, it.data)
			}
		}
	})
}

// BenchmarkWinXMLReader measures splitting wevtutil XML into records.
func BenchmarkWinXMLReader(b *testing.B) {
	one, err := os.ReadFile("../../testdata/windows/security-wevtutil.xml")
	if err != nil {
		b.Fatal(err)
	}
	const copies = 200
	data := bytes.Repeat(one, copies)
	benchSplit(b, WinXML{}, "x.xml", data, Options{}, 6*copies, "records/s")
}
