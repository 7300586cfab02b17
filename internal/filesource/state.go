package filesource

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// identity is a file's device and inode; zero when unknown.
type identity struct{ Dev, Ino uint64 }

func (id identity) valid() bool { return id.Ino != 0 }

const (
	stateVersion = 1
	// fpSize is how many bytes of content the fingerprint covers.
	fpSize = 1 << 10
	// maxHeader bounds the CSV header kept in the cursor.
	maxHeader = 256 << 10
	// maxState bounds an encoded cursor value accepted by the decoder.
	maxState = maxHeader*2 + 4<<10
)

// fileState is what is persisted, as JSON, in a file's cursor: where the
// file was read to and what it was. Offsets are raw file offsets (for a
// gzip file, offsets in its decompressed content).
type fileState struct {
	V   int    `json:"v"`
	Dev uint64 `json:"dev,omitempty"`
	Ino uint64 `json:"ino,omitempty"`
	// Size and MTime (Unix nanoseconds) are the file's when last read.
	Size  int64 `json:"size"`
	MTime int64 `json:"mtime,omitempty"`
	// Format is the reader's name; Doc is true for whole-document files.
	Format string `json:"format,omitempty"`
	Doc    bool   `json:"doc,omitempty"`
	// Off is the offset after the last record consumed, Line the number of
	// lines before it (line files).
	Off  int64 `json:"off"`
	Line int64 `json:"line"`
	// Skip is true while inside an overlong line whose end has not come.
	Skip bool `json:"skip,omitempty"`
	// Ctx is where the lines re-read for context (SSH login pairing) start.
	Ctx int64 `json:"ctx,omitempty"`
	// Header is a CSV file's header line, so appended rows parse.
	Header string `json:"header,omitempty"`
	// Done is true once a document was read whole; Items counts the items
	// delivered from it so far (records and problems), to resume within it.
	Done  bool  `json:"done,omitempty"`
	Items int64 `json:"items,omitempty"`
	// From and FromLine are where reading of a compressed copy starts: the
	// decompressed offset (and line) up to which the content was already
	// read under another name.
	From     int64 `json:"from,omitempty"`
	FromLine int64 `json:"fromline,omitempty"`
	// FP is a hash of the content bytes [FPOff, FPOff+FPLen): it tells a
	// renamed, copied or compressed copy of consumed content from new
	// content.
	FP    string `json:"fp,omitempty"`
	FPOff int64  `json:"fpoff,omitempty"`
	FPLen int64  `json:"fplen,omitempty"`
}

func (st *fileState) ident() identity { return identity{Dev: st.Dev, Ino: st.Ino} }

// encodeState renders a state as a cursor value.
func encodeState(st *fileState) string {
	st.V = stateVersion
	b, err := json.Marshal(st)
	if err != nil {
		// A struct of strings, integers and booleans always marshals.
		panic("filesource: encoding cursor state: " + err.Error())
	}
	return string(b)
}

// decodeState reads a cursor value written by encodeState, checking that
// it is consistent; the value comes from storage and may be damaged.
func decodeState(s string) (*fileState, error) {
	if len(s) > maxState {
		return nil, fmt.Errorf("cursor state of %d bytes is over the %d-byte limit", len(s), maxState)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	var st fileState
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("cursor state is not valid: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("cursor state is not valid: data after the JSON object")
	}
	switch {
	case st.V != stateVersion:
		return nil, fmt.Errorf("cursor state has version %d, want %d", st.V, stateVersion)
	case st.Size < 0 || st.Off < 0 || st.Line < 0 || st.Ctx < 0 || st.Items < 0 || st.From < 0 || st.FromLine < 0:
		return nil, errors.New("cursor state has a negative offset or count")
	case st.Ctx > st.Off:
		return nil, fmt.Errorf("cursor state has its context start %d after its offset %d", st.Ctx, st.Off)
	case st.Line > st.Off:
		return nil, fmt.Errorf("cursor state counts %d lines in %d bytes", st.Line, st.Off)
	case st.FPLen < 0 || st.FPLen > fpSize || st.FPOff < 0 || st.FPOff > maxHeader+4:
		return nil, errors.New("cursor state has an invalid fingerprint range")
	case st.FP != "" && (len(st.FP) != 32 || !isHex(st.FP)) || (st.FP == "") != (st.FPLen == 0):
		return nil, errors.New("cursor state has an invalid fingerprint")
	case len(st.Header) > maxHeader:
		return nil, errors.New("cursor state has an overlong CSV header")
	case len(st.Format) > 64:
		return nil, errors.New("cursor state has an invalid format name")
	}
	return &st, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// fingerprint hashes content bytes.
func fingerprint(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}

// fpAt hashes the n bytes at off of r, or returns "" when r holds fewer.
func fpAt(r io.ReaderAt, off, n int64) string {
	if n <= 0 {
		return ""
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, off); err != nil {
		return ""
	}
	return fingerprint(buf)
}
