package format

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/entrawatch/entrawatch/internal/record"
)

// evtxFixture is testdata/windows/security-4624-type10.evtx: the file
// header and first chunk (records 31878–31955) of the library's
// testdata/Security.evtx, with the logon type of record 31880 (a 4624) and
// of its 4627 companion changed from 2 to 10 (see testdata/windows/NOTICE).
func evtxFixture(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/windows/security-4624-type10.evtx")
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != evHeaderSize+evChunkSize {
		t.Fatalf("fixture has %d bytes", len(b))
	}
	return b
}

func TestEVTXFixture(t *testing.T) {
	fx := evtxFixture(t)
	if r := Sniff("Security.evtx", fx[:64<<10]); r == nil || r.Name() != "evtx" {
		t.Fatalf("sniffs as %v", r)
	}
	got, err := readWin(t, EVTX{}, bytes.NewReader(fx), Options{MaxRecord: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 78 {
		t.Fatalf("%d items, want 78", len(got))
	}
	logons := map[string]int{}
	for i, g := range got {
		if g.err != "" {
			t.Fatalf("item %d: %s", i+1, g.err)
		}
		// Index is the EventRecordID, Line the ordinal.
		if g.line != int64(i+1) || g.index != int64(31878+i) || g.ownLine || g.format != "evtx" {
			t.Errorf("item %d: line %d index %d ownLine %v format %q", i+1, g.line, g.index, g.ownLine, g.format)
		}
		if g.rec.Kind != record.KindWindowsEvent || g.rec.Shape != record.ShapeWindows {
			t.Errorf("item %d: kind %v shape %v", i+1, g.rec.Kind, g.rec.Shape)
		}
		if record.Text(g.rec.Lookup("EventID")) == "4624" {
			logons[record.Text(g.rec.Lookup("LogonType"))+"/"+record.Text(g.rec.Lookup("TargetUserName"))]++
		}
		if _, err := time.Parse(time.RFC3339Nano, record.Text(g.rec.Lookup("TimeCreated"))); err != nil {
			t.Errorf("item %d: %v", i+1, err)
		}
	}
	if fmt.Sprint(logons) != "map[10/user:1 5/SYSTEM:19]" {
		t.Errorf("4624 logons by type/user: %v", logons)
	}
	checkWinRecords(t, got[2:3], []winWant{{3, 31880,
		[]string{"4624", "10", "user", "TESTCOMPUTER", "::1", "TESTCOMPUTER", "TestComputer", "2019-02-06T14:18:35.9461328Z"},
		[]string{"SubjectLogonId=0x2995e", "TargetLogonId=0x5b9a0d", "LogonProcessName=seclogo", "ProcessId=0x129c", "KeyLength=0",
			"TargetUserSid=S-1-5-21-546003962-2713609280-610790815-1002", "EventRecordID=31880", "Channel=Security",
			"Provider=Microsoft-Windows-Security-Auditing", "Event.System.Keywords=0x8020000000000000"},
	}}, "evtx")

	want := map[int]string{
		0: `{"Event":{"System":{"Provider":{"Name":"Microsoft-Windows-Eventlog","Guid":"{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}"},"EventID":1102,` +
			`"Version":0,"Level":4,"Task":104,"Opcode":0,"Keywords":"0x4020000000000000","TimeCreated":{"SystemTime":"2019-02-06T14:17:53.3172597Z"},` +
			`"EventRecordID":31878,"Correlation":{},"Execution":{"ProcessID":1236,"ThreadID":8176},"Channel":"Security","Computer":"TestComputer",` +
			`"Security":{}},"UserData":{"LogFileCleared":{"SubjectUserSid":"S-1-5-21-546003962-2713609280-610790815-1001","SubjectUserName":"test",` +
			`"SubjectDomainName":"TESTCOMPUTER","SubjectLogonId":"0x29936"}}}}`,
		2: `{"Event":{"System":{"Provider":{"Name":"Microsoft-Windows-Security-Auditing","Guid":"{54849625-5478-4994-A5BA-3E3B0328C30D}"},` +
			`"EventID":4624,"Version":2,"Level":0,"Task":12544,"Opcode":0,"Keywords":"0x8020000000000000",` +
			`"TimeCreated":{"SystemTime":"2019-02-06T14:18:35.9461328Z"},"EventRecordID":31880,` +
			`"Correlation":{"ActivityID":"{02277543-BEAA-0000-BB75-2702AABED401}"},"Execution":{"ProcessID":676,"ThreadID":780},` +
			`"Channel":"Security","Computer":"TestComputer","Security":{}},"EventData":{"SubjectUserSid":"S-1-5-21-546003962-2713609280-610790815-1001",` +
			`"SubjectUserName":"test","SubjectDomainName":"TESTCOMPUTER","SubjectLogonId":"0x2995e","TargetUserSid":"S-1-5-21-546003962-2713609280-610790815-1002",` +
			`"TargetUserName":"user","TargetDomainName":"TESTCOMPUTER","TargetLogonId":"0x5b9a0d","LogonType":"10","LogonProcessName":"seclogo",` +
			`"AuthenticationPackageName":"Negotiate","WorkstationName":"TESTCOMPUTER","LogonGuid":"{00000000-0000-0000-0000-000000000000}",` +
			`"TransmittedServices":"-","LmPackageName":"-","KeyLength":"0","ProcessId":"0x129c","ProcessName":"C:\\Windows\\System32\\svchost.exe",` +
			`"IpAddress":"::1","IpPort":"0","ImpersonationLevel":"%%1833","RestrictedAdminMode":"-","TargetOutboundUserName":"-",` +
			`"TargetOutboundDomainName":"-","VirtualAccount":"%%1843","TargetLinkedLogonId":"0x0","ElevatedToken":"%%1843"}}}`,
	}
	for i, w := range want {
		if got[i].data != w {
			t.Errorf("record %d:\n got %s\nwant %s", i+1, got[i].data, w)
		}
	}

	// The reader takes a plain io.Reader: the same, a byte at a time.
	again, err := readWin(t, EVTX{}, iotest.OneByteReader(bytes.NewReader(fx)), Options{MaxRecord: 1 << 20})
	if err != nil || len(again) != len(got) {
		t.Fatalf("byte by byte: %v, %d items", err, len(again))
	}
	for i := range got {
		if again[i].data != got[i].data {
			t.Fatalf("record %d differs read byte by byte", i+1)
		}
	}
}

// TestEVTXLibraryFiles reads the EVTX files shipped in the library's module
// (testdata/Security.evtx: 739 records in 10 used chunks of 17, a 4624 of
// logon type 2 but none of type 10), when the module cache holds them.
func TestEVTXLibraryFiles(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "www.velocidex.com/golang/evtx").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skipf("module directory not found: %v", err)
	}
	for _, c := range []struct {
		file string
		n    int
	}{{"Security.evtx", 739}, {"Security_1_record.evtx", 1}} {
		f, err := os.Open(filepath.Join(dir, "testdata", c.file))
		if err != nil {
			t.Skip(err)
		}
		got, err := readWin(t, EVTX{}, f, Options{MaxRecord: 1 << 20})
		f.Close()
		if err != nil || len(got) != c.n {
			t.Fatalf("%s: %v, %d items, want %d", c.file, err, len(got), c.n)
		}
		ids := map[string]int{}
		for _, g := range got {
			if g.err != "" {
				t.Fatalf("%s: %s", c.file, g.err)
			}
			if g.rec.Kind != record.KindWindowsEvent {
				t.Fatalf("%s: record %d is %v", c.file, g.index, g.rec.Kind)
			}
			ids[record.Text(g.rec.Lookup("EventID"))]++
		}
		if c.n == 739 && (ids["4624"] != 197 || ids["4688"] != 11) {
			t.Errorf("%s: event ids %v", c.file, ids)
		}
	}
}

// evtxChunk builds a chunk holding records, each given as binary XML.
func evtxChunk(firstID uint64, records ...[]byte) []byte {
	ch := make([]byte, evChunkSize)
	copy(ch, evtxChunkMagic)
	le := binary.LittleEndian
	le.PutUint64(ch[8:], 1)
	le.PutUint64(ch[16:], uint64(len(records)))
	le.PutUint64(ch[24:], firstID)
	le.PutUint64(ch[32:], firstID+uint64(len(records))-1)
	le.PutUint32(ch[40:], 128)
	o := evChunkHead
	for i, r := range records {
		size := evRecordHead + len(r) + 4
		copy(ch[o:], "**\x00\x00")
		le.PutUint32(ch[o+4:], uint32(size))
		le.PutUint64(ch[o+8:], firstID+uint64(i))
		le.PutUint64(ch[o+16:], 132000000000000000)
		copy(ch[o+evRecordHead:], r)
		le.PutUint32(ch[o+size-4:], uint32(size))
		o += size
	}
	le.PutUint32(ch[48:], uint32(o))
	return ch
}

const (
	evtxChunkMagic = "ElfChnk\x00"
	evtxMagic      = "ElfFile\x00"
)

// evtxBomb is binary XML whose parse by the library is exponential: each
// level is a template instance with two zero-length binary-XML arguments,
// both parsed from the next level.
func evtxBomb(levels int) []byte {
	le := binary.LittleEndian
	b := []byte{0x0f, 1, 1, 0, 0x0c, 1}
	b = le.AppendUint32(b, 7) // template id
	b = le.AppendUint32(b, 0) // resource length
	b = le.AppendUint32(b, 0) // argument count (read again after the definition)
	b = append(b, make([]byte, 16)...)
	b = le.AppendUint32(b, 1) // body length
	b = append(b, 0)          // body: end of fragment
	for i := 0; i < levels; i++ {
		if i > 0 {
			b = append(b, 0x0c, 1)
			b = le.AppendUint32(b, 7)
			b = le.AppendUint32(b, 0)
		}
		b = le.AppendUint32(b, 2)
		b = append(b, 0, 0, 0x21, 0, 0, 0, 0x21, 0)
	}
	return append(b, 0)
}

// evtxInstance is binary XML of one template instance (defined empty) with
// nargs arguments of the given length and type.
func evtxInstance(nargs uint32, argLen, argType uint16, described int) []byte {
	le := binary.LittleEndian
	b := []byte{0x0f, 1, 1, 0, 0x0c, 1}
	b = le.AppendUint32(b, 9)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 0)
	b = append(b, make([]byte, 16)...)
	b = le.AppendUint32(b, 1)
	b = append(b, 0)
	b = le.AppendUint32(b, nargs)
	for i := 0; i < described; i++ {
		b = le.AppendUint16(b, argLen)
		b = le.AppendUint16(b, argType)
	}
	return append(b, 0)
}

func TestEVTXCorrupt(t *testing.T) {
	fx := evtxFixture(t)
	hdr, ch := fx[:evHeaderSize], fx[evHeaderSize:]
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	patched := func(f func(c []byte)) []byte {
		c := append([]byte(nil), ch...)
		f(c)
		return c
	}
	// The offset of the fixture's last record.
	lastRec := evChunkHead
	for o := evChunkHead; o < len(ch) && string(ch[o:o+4]) == "**\x00\x00"; o += int(binary.LittleEndian.Uint32(ch[o+4:])) {
		lastRec = o
	}
	garbage := bytes.Repeat([]byte("garbage!"), evChunkSize/8)
	sid := evtxInstance(200, 65535, 0x13, 200)
	for _, c := range []struct {
		name    string
		in      []byte
		records int
		errs    []string
		err     string // from Split
	}{
		{"two chunks", cat(hdr, ch, ch), 156, nil, ""},
		{"bad chunk between", cat(hdr, ch, garbage, ch), 156, []string{"chunk 1 at offset 69632: no ElfChnk signature; skipped"}, ""},
		{"unused chunks", cat(hdr, ch, make([]byte, evChunkSize), ch, make([]byte, 100)), 156, nil, ""},
		{"truncated chunk", cat(hdr, ch[:30000]), 33, []string{"chunk 0 at offset 4096: truncated at 30000 of its 65536 bytes; the records after the cut are lost"}, ""},
		{"truncated in the chunk header", cat(hdr, ch, ch[:100]), 78, []string{"chunk 1 at offset 69632: truncated at 100 of its 65536 bytes; the records after the cut are lost"}, ""},
		{"record with a bad size", cat(hdr, patched(func(c []byte) { binary.LittleEndian.PutUint32(c[lastRec+4:], 3) })), 77,
			[]string{fmt.Sprintf("chunk 0 at offset 4096: record at chunk offset %#x has a bad size (3); the rest of the chunk is skipped", lastRec)}, ""},
		{"record without signature", cat(hdr, patched(func(c []byte) { c[lastRec] = 'X' })), 77,
			[]string{fmt.Sprintf("chunk 0 at offset 4096: no record signature at chunk offset %#x; the rest of the chunk is skipped", lastRec)}, ""},
		{"four billion arguments", cat(hdr, patched(func(c []byte) {
			if c[lastRec+24] != 0x0f || c[lastRec+28] != 0x0c {
				t.Fatal("unexpected record layout")
			}
			binary.LittleEndian.PutUint32(c[lastRec+38:], 0xffffffff)
		})), 77, []string{fmt.Sprintf("chunk 0 at offset 4096: record 31955 at chunk offset %#x: a template instance announces 4294967295 arguments (corrupt); the rest of the chunk is skipped", lastRec)}, ""},
		{"bad record numbers", cat(hdr, patched(func(c []byte) { binary.LittleEndian.PutUint64(c[8:], 1<<40) })), 78,
			[]string{"chunk 0 at offset 4096: bad record numbers in the chunk header (1099511627776 to 78); the rest of the chunk is skipped"}, ""},
		{"fewer records than announced", cat(hdr, patched(func(c []byte) { binary.LittleEndian.PutUint64(c[16:], 80) })), 78,
			[]string{"chunk 0 at offset 4096: the chunk header announces 80 records, 78 found; the rest of the chunk is skipped"}, ""},
		{"exponential binary XML", cat(hdr, evtxChunk(1, evtxBomb(60)), ch), 78,
			[]string{"chunk 0 at offset 4096: record 1 at chunk offset 0x200: too many values (corrupt?); the rest of the chunk is skipped"}, ""},
		{"quadratic SIDs", cat(hdr, evtxChunk(1, sid), ch), 78,
			[]string{"chunk 0 at offset 4096: record 1 at chunk offset 0x200: too complex to parse safely (corrupt?); the rest of the chunk is skipped"}, ""},
		{"arguments past the chunk", cat(hdr, evtxChunk(1, evtxInstance(20000, 1, 1, 10)), ch), 78,
			[]string{"chunk 0 at offset 4096: record 1 at chunk offset 0x200: a template instance announces 20000 arguments (corrupt); the rest of the chunk is skipped"}, ""},
		{"no event element", cat(hdr, evtxChunk(5, []byte{0x00})), 0,
			[]string{"record 5 (chunk 0 at offset 4096): no event in the record"}, ""},
		{"header only", hdr, 0, nil, ""},
		{"short header", fx[:100], 0, nil, "truncated EVTX file: 100 bytes, the file header alone takes 4096"},
		{"not evtx", []byte("<Event/>"), 0, nil, "not an EVTX file (no ElfFile signature)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			got, err := readWin(t, EVTX{}, bytes.NewReader(c.in), Options{MaxRecord: 1 << 20})
			if fmt.Sprint(err) != fmt.Sprint(errors.New(c.err)) && !(err == nil && c.err == "") {
				t.Fatalf("Split: %v, want %q", err, c.err)
			}
			var errs []string
			n := 0
			var last int64
			for _, g := range got {
				if g.line < last || g.line < 1 {
					t.Errorf("line %d after %d", g.line, last)
				}
				last = g.line
				if g.err != "" {
					errs = append(errs, g.err)
					continue
				}
				n++
			}
			if n != c.records || fmt.Sprint(errs) != fmt.Sprint(c.errs) {
				t.Errorf("%d records, errors %q\nwant %d, %q", n, errs, c.records, c.errs)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestEVTXReadError(t *testing.T) {
	fx := evtxFixture(t)
	boom := errors.New("disk on fire")
	got, err := readWin(t, EVTX{}, &winFailReader{data: fx[:evHeaderSize+1000], err: boom}, Options{})
	if !errors.Is(err, boom) || len(got) != 0 {
		t.Fatalf("err %v, %d items", err, len(got))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (EVTX{}).Split(ctx, "x", bytes.NewReader(fx), Options{}, func(*Item) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	stop := errors.New("stop")
	if err := (EVTX{}).Split(context.Background(), "x", bytes.NewReader(fx), Options{}, func(*Item) error { return stop }); err != stop {
		t.Fatalf("emit error: %v", err)
	}
	// A record over the size limit is an error, the others are read.
	got, err = readWin(t, EVTX{}, bytes.NewReader(fx), Options{MaxRecord: 1000})
	bad := 0
	for _, g := range got {
		if g.err != "" {
			bad++
			if !strings.Contains(g.err, "over the record size limit once converted to JSON") {
				t.Errorf("error %q", g.err)
			}
		} else if len(g.data) > 1000 {
			t.Errorf("record of %d bytes", len(g.data))
		}
	}
	if err != nil || len(got) != 78 || bad == 0 || bad == 78 {
		t.Fatalf("err %v, %d items, %d over the limit", err, len(got), bad)
	}
}

func TestEVTXValues(t *testing.T) {
	c := &evConv{ft: 131939363159461328}
	for _, x := range []struct {
		name string
		v    any
		want string
	}{
		{"SystemTime", evFiletimeFloat(131939363159461328), "2019-02-06T14:18:35.9461328Z"},
		{"SystemTime", 1549462715.5, "2019-02-06T14:18:35.500000Z"},
		{"SomeTime", 1549462715.9999999, "2019-02-06T14:18:36.000000Z"},
		{"SomeTime", 1e300, "1e+300"},
		{"LogonType", uint32(10), "10"},
		{"TargetLogonId", uint64(0x3e7), "0x3e7"},
		{"Status", uint32(0xc000006d), "0xc000006d"},
		{"Keywords", uint64(0x8020000000000000), "0x8020000000000000"},
		{"LogonGuid", "00000000-0000-0000-0000-00000000ABCD", "{00000000-0000-0000-0000-00000000ABCD}"},
		{"Name", "00000000-0000-0000-0000-00000000abcd", "00000000-0000-0000-0000-00000000abcd"},
		{"Flag", true, "true"},
		{"Blob", []byte{0x0a, 0xff}, "0AFF"},
		{"List", []string{"a", "b"}, "a\nb"},
		{"Nil", nil, ""},
	} {
		if got := c.render(x.name, x.v); got != x.want {
			t.Errorf("render(%s, %v) = %q, want %q", x.name, x.v, got, x.want)
		}
	}
}

// FuzzEVTXReader checks that no input makes the EVTX reader (and the
// library under it) panic, hang or allocate without bound, and that its
// items keep the readers' invariants.
//
// An input that does not start with the EVTX signature is taken as chunk
// data, given the chunk signature and put after the fixture's file header,
// so that the fuzzer spends its time in the chunk parser; the seeds in
// testdata/fuzz/FuzzEVTXReader are the fixture's first records (the whole
// records of a truncated chunk are parsed).
func FuzzEVTXReader(f *testing.F) {
	hdr := evtxFixture(f)[:evHeaderSize]
	f.Add(evtxChunk(1, evtxBomb(8))[:512])
	f.Add(evtxChunk(1, evtxInstance(3, 12, 0x13, 3))[:512])
	f.Fuzz(func(t *testing.T, b []byte) {
		if !bytes.HasPrefix(b, []byte(evtxMagic)) {
			b = append(append([]byte(nil), hdr...), b...)
			copy(b[evHeaderSize:], evtxChunkMagic)
		}
		const max = 1 << 20
		whole, errW := collect(t, EVTX{}, "f.evtx", bytes.NewReader(b), len(b), max)
		bytewise, errB := collect(t, EVTX{}, "f.evtx", iotest.OneByteReader(bytes.NewReader(b)), len(b), max)
		sameItems(t, whole, bytewise, errW, errB)
		for _, it := range whole {
			if it.err != "" {
				if !strings.HasPrefix(it.err, "chunk ") && !strings.HasPrefix(it.err, "record ") {
					t.Fatalf("error without its place: %q", it.err)
				}
				continue
			}
			if len(it.data) > max || !json.Valid([]byte(it.data)) || !strings.HasPrefix(it.data, `{"Event":{`) || it.format != "evtx" || it.ownLine {
				t.Fatalf("record %d: bad record: %s", it.line, it.data)
			}
		}
	})
}

// BenchmarkEVTXReader measures reading an EVTX file of 16 chunks (1,248
// records): records/s and MB/s of input.
func BenchmarkEVTXReader(b *testing.B) {
	fx := evtxFixture(b)
	const chunks = 16
	data := append(append([]byte(nil), fx[:evHeaderSize]...), bytes.Repeat(fx[evHeaderSize:], chunks)...)
	benchSplit(b, EVTX{}, "x.evtx", data, Options{}, 78*chunks, "records/s")
}

// benchSplit measures a reader splitting data into want records: records/s
// (or the given unit) and MB/s of input.
func benchSplit(b *testing.B, r Reader, name string, data []byte, opts Options, want int, unit string) {
	b.Helper()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	n := 0
	emit := func(it *Item) error {
		if it.Err != nil {
			return it.Err
		}
		n++
		return nil
	}
	for b.Loop() {
		n = 0
		if err := r.Split(context.Background(), name, bytes.NewReader(data), opts, emit); err != nil {
			b.Fatal(err)
		}
		if n != want {
			b.Fatalf("%d records, want %d", n, want)
		}
	}
	b.ReportMetric(float64(b.N)*float64(want)/b.Elapsed().Seconds(), unit)
}
