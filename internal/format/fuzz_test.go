package format

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// fuzzItem is an Item copied out of the emit callback (whose slices are
// valid only during the call).
type fuzzItem struct {
	data, raw   string
	format      string
	line, index int64
	ownLine     bool
	err         string
}

// collect runs r over in and checks the invariants every reader keeps,
// whatever its input: every item has either data or an error (never both,
// never neither), no record is empty or over the size limit, lines start
// at 1 and never go back, and the reader makes progress (it cannot emit
// more than two items per input byte: inside a top-level array the JSON
// splitter reports a bad element and then the missing comma after it).
func collect(t *testing.T, r Reader, name string, in io.Reader, size, max int) ([]fuzzItem, error) {
	t.Helper()
	var items []fuzzItem
	var lastLine int64
	err := r.Split(context.Background(), name, in, Options{MaxRecord: max}, func(it *Item) error {
		switch {
		case it.Err == nil && len(it.Data) == 0:
			t.Fatalf("item %d (line %d): neither data nor error", len(items)+1, it.Line)
		case it.Err != nil && (it.Data != nil || it.Raw != nil):
			t.Fatalf("item %d (line %d): data beside error %v", len(items)+1, it.Line, it.Err)
		case it.Err == nil && len(it.Data) > max && r.Name() == "json":
			t.Fatalf("item %d (line %d): %d bytes, over the %d-byte limit", len(items)+1, it.Line, len(it.Data), max)
		case it.Line < 1:
			t.Fatalf("item %d: line %d", len(items)+1, it.Line)
		case it.Line < lastLine:
			t.Fatalf("item %d: line %d after line %d", len(items)+1, it.Line, lastLine)
		}
		lastLine = it.Line
		x := fuzzItem{data: string(it.Data), raw: string(it.Raw), format: it.Format, line: it.Line, index: it.Index, ownLine: it.OwnLine}
		if it.Err != nil {
			x.err = it.Err.Error()
		}
		items = append(items, x)
		if len(items) > 2*size+4 {
			t.Fatalf("%d items from %d bytes: no progress", len(items), size)
		}
		return nil
	})
	return items, err
}

// sameItems fails when a reader's output depends on how its input was
// chunked.
func sameItems(t *testing.T, whole, bytewise []fuzzItem, errWhole, errBytewise error) {
	t.Helper()
	if fmt.Sprint(errWhole) != fmt.Sprint(errBytewise) {
		t.Fatalf("error depends on read sizes: %v vs %v", errWhole, errBytewise)
	}
	if len(whole) != len(bytewise) {
		t.Fatalf("%d items read whole, %d read byte by byte", len(whole), len(bytewise))
	}
	for i := range whole {
		if whole[i] != bytewise[i] {
			t.Fatalf("item %d depends on read sizes:\n%+v\n%+v", i+1, whole[i], bytewise[i])
		}
	}
}

func fuzzMax(m uint16) int { return 64 + int(m)%8192 }

var errFuzzRead = errors.New("read failed")

// failingReader fails, for good, after n bytes: a truncated gzip stream,
// a file on a vanishing network share.
type failingReader struct {
	r io.Reader
	n int
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errFuzzRead
	}
	if len(p) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= n
	if err == io.EOF {
		return n, errFuzzRead
	}
	return n, err
}

// checkReadFailure runs r over the first bytes of in from a reader that
// then fails: the reader must stop and return the failure, without
// looping on it.
func checkReadFailure(t *testing.T, r Reader, name string, in []byte, max int) {
	t.Helper()
	cut := len(in) / 2
	_, err := collect(t, r, name, &failingReader{r: bytes.NewReader(in), n: cut}, cut, max)
	if err == nil || !errors.Is(err, errFuzzRead) && !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("a failing reader gave %v", err)
	}
}

func FuzzJSONReader(f *testing.F) {
	for _, s := range []string{
		`{"value":[{"id":"1","createdDateTime":"2026-01-01T00:00:00Z"},{"id":"2"}],"@odata.nextLink":"x"}`,
		"{\"records\":[{\"time\":\"2026-01-01T00:00:00Z\",\"category\":\"SignInLogs\",\"properties\":{\"a\":1}}]}\n",
		"{\"a\":1}\n{\"b\":\n{\"c\":3}\r\n",
		"[\n {\"a\":1},\n {\"b\":[1,2,]},\n {\"c\":3}\n]",
		"\xef\xbb\xbf{\"a\":\"\\u001b[31m\"}",
		"\x00\x01\x02garbage\n{\"a\":1}",
	} {
		f.Add([]byte(s), uint16(4096))
	}
	f.Fuzz(func(t *testing.T, b []byte, m uint16) {
		max := fuzzMax(m)
		whole, errW := collect(t, JSON{}, "f.json", bytes.NewReader(b), len(b), max)
		if errW != nil {
			t.Fatalf("error reading from memory: %v", errW)
		}
		bytewise, errB := collect(t, JSON{}, "f.json", iotest.OneByteReader(bytes.NewReader(b)), len(b), max)
		sameItems(t, whole, bytewise, errW, errB)
		checkReadFailure(t, JSON{}, "f.json", b, max)
		for _, it := range whole {
			if it.err != "" && !strings.HasPrefix(it.err, "line ") {
				t.Fatalf("error without its line: %q", it.err)
			}
		}
	})
}

const (
	seedPortalSignIn = "\xef\xbb\xbfDate (UTC),Request ID,User agent,Correlation ID,User ID,User,Username,User type,Application,Application ID,Resource,Resource ID,IP address,Location,Status,Sign-in error code,Failure reason,Client app,Device ID,Browser,Operating System,Compliant,Managed,Join Type,Multifactor authentication result,Conditional Access,Authentication requirement\r\n" +
		"2026-01-05T10:00:00Z,r1,Mozilla/5.0,c1,u1,Alice,alice@contoso.com,Member,Microsoft Authentication Broker,29d9ed98-a469-4536-ade2-f981bc1d605e,Device Registration Service,01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9,203.0.113.7,\"Seattle, Washington, US\",Success,0,,Mobile Apps and Desktop clients,,Edge,Windows10,No,No,,,Success,Single-factor authentication\r\n" +
		"2026-01-05T11:00:00Z,r2,curl,c2,u2,Bob,bob@contoso.com,Member,Office,app,Exchange,res,198.51.100.1,US,Failure,50126,Invalid password,Browser,dev-2,Chrome,MacOs,No,Yes,Azure AD registered,,Success,Multifactor authentication\r\n"
	seedPortalAudit = "Date (UTC),CorrelationId,Service,Category,Activity,Result,ResultReason,ActorType,ActorDisplayName,ActorObjectId,ActorUserPrincipalName,IPAddress,Target1Type,Target1DisplayName,Target1ObjectId,Target1UserPrincipalName,Target1ModifiedProperty1Name,Target1ModifiedProperty1OldValue,Target1ModifiedProperty1NewValue,Target1ModifiedProperty2Name,Target1ModifiedProperty2OldValue,Target1ModifiedProperty2NewValue,Target2Type,Target2DisplayName,Target2ObjectId\n" +
		"2026-01-05T10:00:00Z,c1,Core Directory,RoleManagement,Add member to role,Success,,User,Admin,a1,admin@contoso.com,203.0.113.9,User,Mallory,m1,mallory@contoso.com,Role.DisplayName,,\"\"\"Global Administrator\"\"\",Role.TemplateId,,\"\"\"62e90394-69f5-4237-9190-012177145e10\"\"\",Role,Global Administrator,62e90394-69f5-4237-9190-012177145e10\n" +
		"2026-01-05T11:00:00Z,c2,Device Registration Service,Policy,Set device registration policies,Success,,User,Admin,a1,admin@contoso.com,203.0.113.9,Policy,DeviceRegistrationPolicy,p1,,MultiFactorAuthConfiguration,1,0,,,,,,\n"
	seedLogAnalytics = "TenantId,TimeGenerated [UTC],OperationName,Category,Result,Identity,InitiatedBy,TargetResources,AdditionalDetails,Type\n" +
		"t1,\"1/5/2026, 10:00:00.000 AM\",Read BitLocker key,KeyManagement,success,Admin,\"{\"\"user\"\":{\"\"userPrincipalName\"\":\"\"admin@contoso.com\"\",\"\"ipAddress\"\":\"\"203.0.113.9\"\"}}\",\"[{\"\"displayName\"\":\"\"key-1\"\",\"\"type\"\":\"\"Other\"\"},{\"\"displayName\"\":\"\"LAPTOP-1\"\",\"\"id\"\":\"\"d1\"\",\"\"type\"\":\"\"Device\"\"}]\",\"[{\"\"key\"\":\"\"DeviceId\"\",\"\"value\"\":\"\"d1\"\"}]\",AuditLogs\n" +
		"t1,\"1/5/2026, 11:00:00.000 AM\",\"multi\nline\",Other,success,,,,,AuditLogs\n"
)

func FuzzCSVReader(f *testing.F) {
	f.Add([]byte(seedPortalSignIn), "InteractiveSignIns_2026-01-05.csv", uint16(8000))
	f.Add([]byte(seedPortalAudit), "AuditLogs_2026-01-05.csv", uint16(8000))
	f.Add([]byte(seedLogAnalytics), "query_data.csv", uint16(8000))
	f.Add([]byte("TimeGenerated,a,b\n1,2\n1,2,3,4\n\"x\ny\",\"\"\"\",z\n"), "ragged.csv", uint16(8000))
	// Over the size limit inside a quoted field, on one line and on many.
	f.Add([]byte("TimeGenerated,a\n1,2\n\""+strings.Repeat("x", 100)+"\",3\n4,5\n"), "long.csv", uint16(0))
	f.Add([]byte("TimeGenerated,a\n1,2\n3,\""+strings.Repeat("x\r\n", 40)+"\"\n4,5\n"), "long.csv", uint16(0))
	f.Fuzz(func(t *testing.T, b []byte, name string, m uint16) {
		max := fuzzMax(m)
		whole, errW := collect(t, CSV{}, name, bytes.NewReader(b), len(b), max)
		bytewise, errB := collect(t, CSV{}, name, iotest.OneByteReader(bytes.NewReader(b)), len(b), max)
		sameItems(t, whole, bytewise, errW, errB)
		if errW != nil && !errors.Is(errW, ErrLineTooLong) {
			t.Fatalf("error reading from memory: %v", errW)
		}
		checkReadFailure(t, CSV{}, name, b, max)
		for _, it := range whole {
			if it.err != "" {
				if !strings.HasPrefix(it.err, fmt.Sprintf("line %d: ", it.line)) {
					t.Fatalf("error does not name its line %d: %q", it.line, it.err)
				}
				continue
			}
			if !json.Valid([]byte(it.data)) || !json.Valid([]byte(it.raw)) {
				t.Fatalf("line %d: record is not valid JSON:\n%s\n%s", it.line, it.data, it.raw)
			}
			if it.format == "" {
				t.Fatalf("line %d: record without a format", it.line)
			}
		}
	})
}

// FuzzCSVLimiter checks that the record boundaries the size limiter tracks
// are the ones encoding/csv finds, so that the limit bounds what the CSV
// reader buffers: each boundary of encoding/csv is one of the limiter's,
// and each of the limiter's is one of encoding/csv's or ends a blank line
// (which encoding/csv skips).
func FuzzCSVLimiter(f *testing.F) {
	for _, s := range []string{seedPortalSignIn, seedPortalAudit, seedLogAnalytics, "a,\"b\r\n\"\r\nc,\"x\"\"\"\r\r\n\n\"q\"z\n", "\"\"\"\r\"\n", "a\"b,c\n\"d\"\re\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		mine := map[int]bool{}
		blank := map[int]bool{}
		st, start := csvFieldStart, 0
		for i, c := range b {
			var end bool
			if st, end = st.Next(c); end {
				mine[i+1] = true
				if seg := string(b[start : i+1]); seg == "\n" || seg == "\r\n" {
					blank[i+1] = true
				}
				start = i + 1
			}
		}
		cr := csv.NewReader(bytes.NewReader(b))
		cr.FieldsPerRecord, cr.LazyQuotes = -1, true
		theirs := map[int]bool{}
		for {
			if _, err := cr.Read(); err != nil {
				break
			}
			// A record that runs to the end of the input ends there
			// whatever the quoting.
			if off := int(cr.InputOffset()); off < len(b) {
				theirs[off] = true
			}
		}
		for off := range theirs {
			if !mine[off] {
				t.Fatalf("encoding/csv ends a record at byte %d, the limiter does not", off)
			}
		}
		for off := range mine {
			if !theirs[off] && !blank[off] && off < len(b) {
				t.Fatalf("the limiter ends a record at byte %d, encoding/csv does not", off)
			}
		}
	})
}
